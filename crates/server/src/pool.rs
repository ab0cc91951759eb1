//! The engine's CPU work under a concurrency limit: at most `max_concurrent_checks` run, at most
//! `max_queued_checks` more wait (bounded by `queue_timeout_secs`), everything beyond is refused
//! at once. Refusing early keeps memory bounded: every waiting request holds its body.
//!
//! The queue is also bounded in time: the expected wait of a newcomer is the number of checks ahead
//! of it (queued, plus running when every slot is busy) times the median of the last
//! [`RECENT`] check durations, divided by the slots; beyond `max_queue_wait_secs` it is refused at
//! once ([`RunError::WaitTooLong`], answered 429 with `Retry-After`) instead of waiting.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Why a check did not run.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RunError {
    /// Every running and waiting slot is taken (answer 429).
    #[error("{running} checks running and {queued} waiting: the service is at its limit")]
    Busy { running: usize, queued: usize },
    /// The expected wait for a slot is over the configured limit (answer 429, `Retry-After`).
    #[error("expected wait {expected_secs} s is over the limit of {limit_secs} s")]
    WaitTooLong { expected_secs: u64, limit_secs: u64 },
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
    max_wait: Option<Duration>,
    recent: Arc<Mutex<VecDeque<Duration>>>,
}

/// How many recent check durations the median is taken over.
pub const RECENT: usize = 32;

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
            max_wait: None,
            recent: Arc::new(Mutex::new(VecDeque::with_capacity(RECENT))),
        }
    }

    /// Refuses a newcomer whose expected wait is over `max_wait` (`None`: no bound).
    pub fn with_max_wait(mut self, max_wait: Option<Duration>) -> Self {
        self.max_wait = max_wait;
        self
    }

    /// Median duration of the last [`RECENT`] checks (`None` before the first one ends).
    pub fn median_check_time(&self) -> Option<Duration> {
        let recent = self.recent.lock().ok()?;
        let mut v: Vec<Duration> = recent.iter().copied().collect();
        v.sort();
        v.get(v.len() / 2).copied()
    }

    /// Expected wait for a slot of a request arriving now.
    pub fn expected_wait(&self) -> Duration {
        let Some(median) = self.median_check_time() else {
            return Duration::ZERO;
        };
        let running = self.running();
        let ahead = self.queued()
            + if running >= self.max_running {
                running
            } else {
                0
            };
        median.mul_f64(ahead as f64 / self.max_running as f64)
    }

    fn record(&self, took: Duration) {
        if let Ok(mut recent) = self.recent.lock() {
            if recent.len() == RECENT {
                recent.pop_front();
            }
            recent.push_back(took);
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
        if let Some(limit) = self.max_wait {
            let expected = self.expected_wait();
            if expected > limit {
                return Err(RunError::WaitTooLong {
                    expected_secs: expected.as_secs_f64().ceil() as u64,
                    limit_secs: limit.as_secs(),
                });
            }
        }
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
        Ok(Admission {
            admitted,
            slot,
            pool: self.clone(),
        })
    }
}

/// A taken check slot; dropping it unused frees it.
#[derive(Debug)]
pub struct Admission {
    admitted: OwnedSemaphorePermit,
    slot: OwnedSemaphorePermit,
    pool: CheckPool,
}

impl Admission {
    /// Runs `work` on the blocking pool in this slot.
    pub async fn run<T, F>(self, work: F) -> Result<T, RunError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let Admission {
            admitted,
            slot,
            pool,
        } = self;
        // The permits move into the task: if the client goes away the CPU is still busy until the
        // check ends, so the slot must stay taken until then.
        tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let out = work();
            pool.record(started.elapsed());
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

    /// With checks taking ~300 ms on one slot and a 200 ms bound, a newcomer behind one running
    /// check waits ~300 ms expected and is refused at once; an idle pool admits.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn refuses_when_the_expected_wait_is_over_the_bound() {
        let pool = CheckPool::new(1, 16, Duration::from_secs(5))
            .with_max_wait(Some(Duration::from_millis(200)));
        let slow = || std::thread::sleep(Duration::from_millis(300));
        assert_eq!(pool.run(slow).await, Ok(()));
        assert!(pool.median_check_time().unwrap() >= Duration::from_millis(300));
        let p = pool.clone();
        let first = tokio::spawn(async move { p.run(slow).await });
        while pool.running() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let refused = pool.run(|| ()).await;
        assert!(
            matches!(refused, Err(RunError::WaitTooLong { limit_secs: 0, .. })),
            "{refused:?}"
        );
        assert_eq!(first.await.unwrap(), Ok(()));
        assert_eq!(pool.expected_wait(), Duration::ZERO);
        assert_eq!(pool.run(|| 5).await, Ok(5));
    }
}
