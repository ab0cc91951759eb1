//! The engine's CPU work under a concurrency limit: at most `max_concurrent_checks` run, at most
//! `max_queued_checks` more wait (bounded by `queue_timeout_secs`), everything beyond is refused
//! at once. Refusing early keeps memory bounded: every waiting request holds its body.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Why a check did not run.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RunError {
    /// Every running and waiting slot is taken (answer 429).
    #[error("{running} checks running and {queued} waiting: the service is at its limit")]
    Busy { running: usize, queued: usize },
    /// No slot became free within the queue timeout (answer 503).
    #[error("no check slot became free within {waited_secs} s")]
    QueueTimeout { waited_secs: u64 },
    /// The blocking task panicked or was cancelled: an internal fault (answer 500).
    #[error("the check task failed: {0}")]
    TaskFailed(String),
}

/// Admission and execution slots for engine checks.
#[derive(Debug, Clone)]
pub struct CheckPool {
    admitted: Arc<Semaphore>,
    running: Arc<Semaphore>,
    max_running: usize,
    max_admitted: usize,
    queue_timeout: Duration,
}

impl CheckPool {
    pub fn new(max_running: usize, max_queued: usize, queue_timeout: Duration) -> Self {
        let max_running = max_running.max(1);
        let max_admitted = max_running + max_queued;
        CheckPool {
            admitted: Arc::new(Semaphore::new(max_admitted)),
            running: Arc::new(Semaphore::new(max_running)),
            max_running,
            max_admitted,
            queue_timeout,
        }
    }

    /// Checks running now.
    pub fn running(&self) -> usize {
        self.max_running - self.running.available_permits()
    }

    /// Requests waiting for a slot now.
    pub fn queued(&self) -> usize {
        let admitted = self.max_admitted - self.admitted.available_permits();
        admitted.saturating_sub(self.running())
    }

    /// Runs `work` on the blocking pool once a slot is free.
    pub async fn run<T, F>(&self, work: F) -> Result<T, RunError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        self.admit().await?.run(work).await
    }

    /// Takes a running slot (waiting in the queue if needed) without running anything yet, so
    /// the caller can do the last steps that must happen only once the request is sure to be
    /// analysed (spending a single-use capture token) before [`Admission::run`].
    pub async fn admit(&self) -> Result<Admission, RunError> {
        let admitted = self
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| RunError::Busy {
                running: self.running(),
                queued: self.queued(),
            })?;
        let slot = tokio::time::timeout(self.queue_timeout, self.running.clone().acquire_owned())
            .await
            .map_err(|_| RunError::QueueTimeout {
                waited_secs: self.queue_timeout.as_secs(),
            })?
            .map_err(|e| RunError::TaskFailed(e.to_string()))?;
        Ok(Admission { admitted, slot })
    }
}

/// A taken check slot; dropping it unused frees it.
#[derive(Debug)]
pub struct Admission {
    admitted: OwnedSemaphorePermit,
    slot: OwnedSemaphorePermit,
}

impl Admission {
    /// Runs `work` on the blocking pool in this slot.
    pub async fn run<T, F>(self, work: F) -> Result<T, RunError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let Admission { admitted, slot } = self;
        // The permits move into the task: if the client goes away the CPU is still busy until the
        // check ends, so the slot must stay taken until then.
        tokio::task::spawn_blocking(move || {
            let out = work();
            drop(slot);
            drop(admitted);
            out
        })
        .await
        .map_err(|e| RunError::TaskFailed(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn refuses_beyond_running_plus_queued() {
        let pool = CheckPool::new(1, 1, Duration::from_millis(200));
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let release_rx = Arc::new(std::sync::Mutex::new(release_rx));
        let p = pool.clone();
        let rx = release_rx.clone();
        let first = tokio::spawn(async move {
            p.run(move || {
                rx.lock().unwrap().recv().unwrap();
                1
            })
            .await
        });
        while pool.running() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // One waits (and times out after 200 ms), the third is refused at once.
        let p = pool.clone();
        let second = tokio::spawn(async move { p.run(|| 2).await });
        while pool.queued() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let third = pool.run(|| 3).await;
        assert_eq!(
            third,
            Err(RunError::Busy {
                running: 1,
                queued: 1
            })
        );
        assert_eq!(
            second.await.unwrap(),
            Err(RunError::QueueTimeout { waited_secs: 0 })
        );
        release_tx.send(()).unwrap();
        assert_eq!(first.await.unwrap(), Ok(1));
        assert_eq!(pool.running(), 0);
        assert_eq!(pool.queued(), 0);
        assert_eq!(pool.run(|| 4).await, Ok(4));
    }
}
