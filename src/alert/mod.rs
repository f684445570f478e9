//! Alerting: incidents for block rules that start failing, alerts to channels through an
//! outbox written in the same transaction as their cause, and their delivery with retries.
//!
//! * [`incidents`] — opening (with the blast radius), acknowledging, resolving;
//! * [`channels`] — webhook and Slack channels and which alerts each wants;
//! * [`outbox`] — queueing an alert for every channel that wants it;
//! * [`payload`] — what is sent: JSON, Slack's format, the HMAC signature;
//! * [`deliver`] — the background worker: claim, send, back off, give up;
//! * [`notices`] — in-process notifications for GraphQL subscriptions;
//! * [`model`] — the types.

pub mod channels;
pub mod deliver;
pub mod incidents;
pub mod model;
pub mod notices;
pub mod outbox;
pub mod payload;
