//! A real HTTP receiver on loopback for alert tests: records every request and answers with
//! scripted statuses (then 200).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

#[derive(Default)]
struct Inner {
    received: Vec<Received>,
    script: VecDeque<u16>,
    /// Answer for requests past the script.
    default_status: u16,
    delay: Duration,
}

#[derive(Clone)]
pub struct Receiver {
    inner: Arc<Mutex<Inner>>,
    pub addr: SocketAddr,
}

async fn handle(State(inner): State<Arc<Mutex<Inner>>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let (status, delay) = {
        let mut inner = inner.lock().expect("receiver lock");
        inner.received.push(Received { headers, body });
        let status = inner.script.pop_front().unwrap_or(inner.default_status);
        (status, inner.delay)
    };
    tokio::time::sleep(delay).await;
    StatusCode::from_u16(status).unwrap_or(StatusCode::OK)
}

impl Receiver {
    /// Starts a receiver answering `script` statuses in order, then 200.
    pub async fn start(script: &[u16]) -> Receiver {
        let inner = Arc::new(Mutex::new(Inner { script: script.iter().copied().collect(), default_status: 200, ..Default::default() }));
        let app = Router::new().route("/hook", post(handle)).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind receiver");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { inner, addr }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub fn set_default_status(&self, status: u16) {
        self.inner.lock().expect("receiver lock").default_status = status;
    }

    pub fn set_delay(&self, delay: Duration) {
        self.inner.lock().expect("receiver lock").delay = delay;
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().expect("receiver lock").received.clone()
    }

    /// Waits (bounded: 20 s) until at least `n` requests arrived; returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..400 {
            let received = self.received();
            if received.len() >= n {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let received = self.received();
        panic!("expected {n} requests at the receiver, got {}", received.len());
    }
}
