//! # souverain-guichet
//!
//! The commune's side of Souverain: it issues credentials, asks for and verifies presentations,
//! keeps the consent registry, and serves the wallet's static files so that a commune can host both
//! from one place.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// How the guichet is started.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to bind; port 0 picks a free port (tests), reported by [`Guichet::local_addr`].
    pub addr: SocketAddr,
    /// The wallet's built files (Trunk's `dist/`), served at `/`; `None` serves no wallet.
    pub wallet_dist: Option<PathBuf>,
}

/// Why the guichet could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The address could not be bound (in use, or not allowed).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The wallet directory has no `index.html`.
    #[error("no index.html in the wallet directory {0}")]
    NoWallet(PathBuf),
}

/// `GET /healthz`: the process is up and answering.
async fn healthz() -> impl IntoResponse {
    axum::Json(serde_json::json!({ "status": "ok" }))
}

/// Builds the HTTP application.
pub fn router(options: &ServeOptions) -> Result<Router, StartError> {
    let mut app = Router::new().route("/healthz", get(healthz));
    if let Some(dist) = &options.wallet_dist {
        let index = dist.join("index.html");
        if !index.is_file() {
            return Err(StartError::NoWallet(dist.clone()));
        }
        // Unknown paths get the wallet's page: the app routes itself.
        app = app.fallback_service(ServeDir::new(dist).fallback(ServeFile::new(index)));
    }
    Ok(app
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"))))
}

/// A bound, not yet running guichet.
pub struct Guichet {
    listener: TcpListener,
    app: Router,
}

impl Guichet {
    /// Binds the address and prepares the application.
    pub async fn bind(options: ServeOptions) -> Result<Guichet, StartError> {
        let app = router(&options)?;
        let listener =
            TcpListener::bind(options.addr).await.map_err(|source| StartError::Bind { addr: options.addr, source })?;
        Ok(Guichet { listener, app })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then finishes the requests under way.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        axum::serve(self.listener, self.app).with_graceful_shutdown(shutdown).await
    }
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM, whichever comes first.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        // If the handler cannot be installed, only SIGTERM (or a kill) stops the server.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
