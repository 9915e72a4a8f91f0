//! Which endpoint of the data path a method and path name: the inference routes and the v1
//! model list only (admin and metrics are on their own listener, `admin_listener`). Pure string
//! work, no I/O; the throttlebox gateway routes with it too, to answer what no backend serves
//! itself.

use crate::model::Operation;
use hyper::Method;

/// A routed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route<'a> {
    /// `POST /openai/deployments/{d}/…` (`deployment` = Some) or `POST /openai/v1/…` (None).
    Inference {
        /// Deployment from the path.
        deployment: Option<&'a str>,
        /// The operation.
        operation: Operation,
    },
    /// `GET /openai/v1/models`: the resource's deployments, as AOAI's v1 surface lists models.
    Models,
    /// Known path, wrong method; the value is the `Allow` header.
    MethodNotAllowed(&'static str),
    /// Not an endpoint of the mock.
    NotFound,
}

fn operation(tail: &str) -> Option<Operation> {
    match tail {
        "chat/completions" => Some(Operation::ChatCompletions),
        "completions" => Some(Operation::Completions),
        "embeddings" => Some(Operation::Embeddings),
        _ => None,
    }
}

/// Route `method` + `path` (without the query).
pub fn route<'a>(method: &Method, path: &'a str) -> Route<'a> {
    let path = path.strip_suffix('/').unwrap_or(path);
    if path == "/openai/v1/models" {
        return if method == Method::GET {
            Route::Models
        } else {
            Route::MethodNotAllowed("GET")
        };
    }
    let found = if let Some(rest) = path.strip_prefix("/openai/deployments/") {
        match rest.split_once('/') {
            Some((deployment, tail)) if !deployment.is_empty() => match operation(tail) {
                Some(operation) => Route::Inference {
                    deployment: Some(deployment),
                    operation,
                },
                None => return Route::NotFound,
            },
            _ => return Route::NotFound,
        }
    } else if let Some(tail) = path.strip_prefix("/openai/v1/") {
        match operation(tail) {
            Some(operation) if operation != Operation::Completions => Route::Inference {
                deployment: None,
                operation,
            },
            _ => return Route::NotFound,
        }
    } else {
        return Route::NotFound;
    };
    if method == Method::POST {
        found
    } else {
        Route::MethodNotAllowed("POST")
    }
}

/// Whether the query string carries an `api-version`, and its value.
pub fn api_version(query: Option<&str>) -> Option<&str> {
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("api-version="))
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inference_routes() {
        assert_eq!(
            route(&Method::POST, "/openai/deployments/gpt/chat/completions"),
            Route::Inference {
                deployment: Some("gpt"),
                operation: Operation::ChatCompletions
            }
        );
        assert_eq!(
            route(&Method::POST, "/openai/v1/embeddings"),
            Route::Inference {
                deployment: None,
                operation: Operation::Embeddings
            }
        );
        assert_eq!(
            route(&Method::GET, "/openai/deployments/gpt/embeddings"),
            Route::MethodNotAllowed("POST")
        );
        assert_eq!(
            route(&Method::POST, "/openai/deployments/gpt/images"),
            Route::NotFound
        );
        assert_eq!(
            route(&Method::POST, "/openai/v1/completions"),
            Route::NotFound
        );
        assert_eq!(route(&Method::GET, "/openai/v1/models"), Route::Models);
        assert_eq!(
            route(&Method::POST, "/openai/v1/models/"),
            Route::MethodNotAllowed("GET")
        );
        for off_the_data_path in ["/metrics", "/admin/config", "/++/config", "*", ""] {
            assert_eq!(
                route(&Method::GET, off_the_data_path),
                Route::NotFound,
                "{off_the_data_path}"
            );
        }
    }

    #[test]
    fn api_version_is_read_from_the_query() {
        assert_eq!(
            api_version(Some("a=1&api-version=2024-10-21")),
            Some("2024-10-21")
        );
        assert_eq!(api_version(Some("api-version=")), None);
        assert_eq!(api_version(None), None);
    }
}
