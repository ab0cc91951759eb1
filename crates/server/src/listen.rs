//! The accept loop: HTTP/1.1 over hyper with the limits `axum::serve` cannot set.
//!
//! - `max_connections`: a semaphore permit is taken *before* `accept`, so connection N+1 waits,
//!   unread, in the kernel's accept queue until one of the N closes. Idle or slow connections
//!   cannot exhaust file descriptors or memory.
//! - `header_read_timeout_secs`: hyper's own header timer (it needs a timer, which `axum::serve`
//!   does not give it): a request line and headers trickled slower than this close the connection.
//!   The timer also runs while a kept-alive connection waits for its next request.
//! - `idle_timeout_secs`: a request body that stalls (no byte while the handler waits for one)
//!   ends in an error, so the handler answers and the connection closes, long before the whole
//!   request's `request_timeout_secs`.
//!
//! Shutdown: the listener is closed first (new connections are refused, a load balancer retries
//! them elsewhere), kept-alive connections are closed, in-flight requests finish within the grace.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::config::ServerConfig;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Serves `app` on `listener` until `shutdown` resolves, then drains for at most `grace`.
pub(crate) async fn accept_loop(
    app: Router,
    listener: TcpListener,
    cfg: &ServerConfig,
    grace: Duration,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(cfg.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(cfg.header_read_timeout())
        .keep_alive(true);
    let idle = cfg.idle_timeout();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_millis(200)) => continue,
                        () = &mut shutdown => break,
                    }
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            let mut req = req.map(|body| IdleBody::new(body, idle));
            // The peer address, for the per-client rate limits.
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            app.clone().oneshot(req)
        });
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection closed with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(grace) => {
            tracing::warn!(grace_secs = grace.as_secs(), "in-flight requests cut at the end of the grace period");
        }
    }
    Ok(())
}

/// The error a stalled body ends with.
#[derive(Debug, thiserror::Error)]
#[error("no byte of the request body arrived for {0:?}")]
pub struct BodyStalled(Duration);

/// A request body that fails with [`BodyStalled`] when the handler waits longer than `limit`
/// for its next frame. The clock runs only while the handler is waiting, so a request queued
/// before it reads its body is not cut.
struct IdleBody {
    inner: Incoming,
    limit: Duration,
    timer: Pin<Box<tokio::time::Sleep>>,
    armed: bool,
}

impl IdleBody {
    fn new(inner: Incoming, limit: Duration) -> Self {
        IdleBody {
            inner,
            limit,
            timer: Box::pin(tokio::time::sleep(limit)),
            armed: false,
        }
    }
}

impl HttpBody for IdleBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.armed = false;
                Poll::Ready(frame.map(|r| r.map_err(Into::into)))
            }
            Poll::Pending => {
                if !this.armed {
                    this.armed = true;
                    let deadline = tokio::time::Instant::now() + this.limit;
                    this.timer.as_mut().reset(deadline);
                }
                match this.timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(BodyStalled(this.limit).into()))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
