//! The lab's Python: the virtual environment `.ci/install-python-deps` fills with the pinned
//! LiteLLM, openai-priority-loadbalancer and OpenAI SDK. Found as `--python`, else
//! `$THROTTLEBOX_LAB_PYTHON`, else `target/conformance-venv/bin/python` of this checkout.

use std::path::{Path, PathBuf};

use super::error::LabError;

/// Environment variable naming the lab's interpreter.
pub const PYTHON_ENV: &str = "THROTTLEBOX_LAB_PYTHON";
/// Where `.ci/install-python-deps` creates the virtual environment, under the repository.
pub const VENV_DIR: &str = "target/conformance-venv";
/// LiteLLM version the lab pins and the `litellm-*` presets model by default.
pub const LITELLM_VERSION: &str = "1.108.7";
/// openai-priority-loadbalancer version the lab pins.
pub const PRIORITY_LB_VERSION: &str = "1.1.1";
/// OpenAI Python SDK version the lab pins.
pub const OPENAI_VERSION: &str = "3.57.0";

/// The interpreter to use: `explicit`, else the environment variable, else the checkout's venv.
pub fn lab_python(explicit: Option<&Path>) -> PathBuf {
    if let Some(path) = explicit {
        return path.to_path_buf();
    }
    if let Some(path) = std::env::var_os(PYTHON_ENV) {
        return PathBuf::from(path);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(VENV_DIR)
        .join("bin/python")
}

/// The `litellm` command of the same environment.
pub fn litellm_command(python: &Path) -> PathBuf {
    python.with_file_name("litellm")
}

/// Checks that `python` runs and imports `modules`; the error says how to install them.
pub async fn require(python: &Path, modules: &[&str]) -> Result<(), LabError> {
    let script = format!("import {}", modules.join(", "));
    let output = tokio::process::Command::new(python)
        .args(["-c", &script])
        .output()
        .await
        .map_err(|error| LabError::Python {
            python: python.display().to_string(),
            detail: error.to_string(),
        })?;
    if output.status.success() {
        return Ok(());
    }
    Err(LabError::Python {
        python: python.display().to_string(),
        detail: format!(
            "cannot import {}: {}",
            modules.join(", "),
            String::from_utf8_lossy(&output.stderr).trim()
        ),
    })
}
