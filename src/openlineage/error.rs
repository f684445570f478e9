//! The one error of this module: what was wrong with a request body, and where.

/// What was wrong with a request body, and where.
///
/// `path` is a field path such as `run.runId`, `inputs[2].name`, `eventTime`, or `""` for the
/// document root. In a batch, paths are relative to the event, because the caller reports each
/// element's outcome separately.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", display(.path, .message))]
pub struct ParseError {
    pub path: String,
    pub message: String,
}

impl ParseError {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

fn display(path: &str, message: &str) -> String {
    if path.is_empty() {
        message.to_owned()
    } else {
        format!("{path}: {message}")
    }
}

#[cfg(test)]
mod tests {
    use super::ParseError;

    #[test]
    fn display_prefixes_the_path_only_when_there_is_one() {
        assert_eq!(
            ParseError::new("run.runId", "missing field").to_string(),
            "run.runId: missing field"
        );
        assert_eq!(ParseError::new("", "bad").to_string(), "bad");
    }
}
