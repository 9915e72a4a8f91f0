//! The `throttlebox` command line.

fn main() -> anyhow::Result<()> {
    anyhow::bail!("throttlebox: no commands are built yet")
}
