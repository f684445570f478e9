//! The health statuses of a dataset. What decides them (own checks, taint, waivers) is
//! `gate::assess`.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HealthStatus {
    Unknown,
    Healthy,
    Warning,
    /// Last written by a run that read failing or tainted data (set by the gate module; a
    /// dataset's own checks never produce it).
    Tainted,
    Failing,
}

impl HealthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Unknown => "UNKNOWN",
            HealthStatus::Healthy => "HEALTHY",
            HealthStatus::Warning => "WARNING",
            HealthStatus::Tainted => "TAINTED",
            HealthStatus::Failing => "FAILING",
        }
    }
}
