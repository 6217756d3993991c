//! The accept loop: at most [`ConnectionLimits::max_connections`] connections at once (more wait
//! in the kernel's backlog until one closes, nothing is read from them meanwhile), each served as
//! HTTP/1.1 with a header-read timeout. `axum::serve` has neither, so a few hundred clients that
//! open connections and never finish their headers would hold every socket and file descriptor.

use std::net::SocketAddr;
use std::num::{NonZeroU64, NonZeroUsize};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_service::Service as _;

/// Connections served at once unless the configuration says otherwise: far above what a
/// commune's counters and citizens need at one moment, far below the descriptors a process has.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// Time a client has to send a request's headers unless the configuration says otherwise: a phone
/// on a poor network sends them in well under a second; a slow-loris client is cut off.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// What a connection may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Connections served at once (at least one).
    pub max_connections: usize,
    /// Time to receive a request's headers, counted from when the guichet starts waiting for them.
    pub header_read_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits { max_connections: DEFAULT_MAX_CONNECTIONS, header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT }
    }
}

impl ConnectionLimits {
    /// From `[commune]`'s `max_connections` and `header_read_timeout` (seconds), each defaulted
    /// when absent (zero cannot be written: the configuration refuses it).
    pub fn from_config(max_connections: Option<NonZeroUsize>, header_read_timeout: Option<NonZeroU64>) -> Self {
        ConnectionLimits {
            max_connections: max_connections.map_or(DEFAULT_MAX_CONNECTIONS, NonZeroUsize::get),
            header_read_timeout: header_read_timeout
                .map_or(DEFAULT_HEADER_READ_TIMEOUT, |s| Duration::from_secs(s.get())),
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting and waits for the
/// connections under way to finish their requests (idle ones are closed at once).
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // A slot before the connection: beyond the cap clients wait in the backlog, unread.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            () = &mut shutdown => break,
        };
        // The semaphore is never closed; if it were, stopping is all there is left to do.
        let Ok(slot) = slot else { break };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(&error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let router = app.clone();
        // The rate limiter reads the peer address from the request, as axum's own server gives it.
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            router.clone().call(request)
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                // Clients that vanish or time out: routine, not worth more than a debug line.
                tracing::debug!(%peer, %error, "connection closed with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// After a failed `accept`: a connection that died in the backlog is nothing; anything else
/// (out of file descriptors, above all) is logged and the loop pauses, rather than spinning on
/// the same error.
async fn accept_failed(error: &std::io::Error) {
    use std::io::ErrorKind;
    if matches!(error.kind(), ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::ConnectionRefused)
    {
        return;
    }
    tracing::error!(%error, "accepting a connection failed; pausing for a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
