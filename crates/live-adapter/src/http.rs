//! The HTTP endpoints: `/metrics` (OpenMetrics text), `/healthz` (the process serves) and
//! `/readyz` (every watch has listed and the core is built; 503 before).

use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use prometheus_client::registry::Registry;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// What the endpoints read.
#[derive(Clone)]
pub struct State {
    /// The metrics.
    pub registry: Arc<Registry>,
    /// True once the core is built.
    pub ready: watch::Receiver<bool>,
}

/// The answer to one request.
pub fn respond(state: &State, path: &str) -> Response<Full<Bytes>> {
    let (status, body, content_type) = match path {
        "/metrics" => {
            let mut text = String::new();
            match prometheus_client::encoding::text::encode(&mut text, &state.registry) {
                Ok(()) => (
                    StatusCode::OK,
                    text,
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                ),
                Err(error) => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    error.to_string(),
                    "text/plain",
                ),
            }
        }
        "/healthz" => (StatusCode::OK, "ok\n".into(), "text/plain"),
        "/readyz" if *state.ready.borrow() => (StatusCode::OK, "ready\n".into(), "text/plain"),
        "/readyz" => (
            StatusCode::SERVICE_UNAVAILABLE,
            "watches still listing\n".into(),
            "text/plain",
        ),
        _ => (StatusCode::NOT_FOUND, "not found\n".into(), "text/plain"),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    if let Ok(value) = http::HeaderValue::from_str(content_type) {
        response
            .headers_mut()
            .insert(http::header::CONTENT_TYPE, value);
    }
    response
}

/// Serves the endpoints on `address` until the process ends.
pub async fn serve(address: SocketAddr, state: State) -> std::io::Result<()> {
    let listener = TcpListener::bind(address).await?;
    tracing::info!(%address, "serving /metrics, /healthz and /readyz");
    loop {
        let (stream, _) = listener.accept().await?;
        let state = state.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<Incoming>| {
                let response = respond(&state, request.uri().path());
                async move { Ok::<_, std::convert::Infallible>(response) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            if let Err(error) = connection.await {
                tracing::debug!(%error, "metrics connection ended");
            }
        });
    }
}
