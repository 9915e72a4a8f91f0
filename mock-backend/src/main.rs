//! The `aoai-mock` binary: serve a mock fleet from a TOML file.

fn main() -> anyhow::Result<()> {
    anyhow::bail!("aoai-mock: the HTTP server is not built yet")
}
