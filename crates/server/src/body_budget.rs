//! The service-wide budget of request body bytes held at once (`[server]
//! max_inflight_body_bytes`): the gate reserves a request's bytes before its body is read.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Budget unit: reservations are counted in KiB so the semaphore's permit count stays small.
const UNIT: u64 = 1024;

/// The service-wide budget of request body bytes held at once.
#[derive(Debug, Clone)]
pub struct BodyBudget {
    units: Arc<Semaphore>,
    total_units: u64,
}

impl BodyBudget {
    pub fn new(max_bytes: u64) -> Self {
        let total_units = max_bytes
            .div_ceil(UNIT)
            .clamp(1, Semaphore::MAX_PERMITS as u64);
        BodyBudget {
            units: Arc::new(Semaphore::new(total_units as usize)),
            total_units,
        }
    }

    /// Reserves `bytes` without waiting; `None` when the budget cannot cover them now.
    pub fn try_reserve(&self, bytes: u64) -> Option<OwnedSemaphorePermit> {
        let units = bytes.div_ceil(UNIT).clamp(1, self.total_units);
        let units = u32::try_from(units).ok()?;
        self.units.clone().try_acquire_many_owned(units).ok()
    }

    /// Bytes reserved now.
    pub fn reserved_bytes(&self) -> u64 {
        (self.total_units - self.units.available_permits() as u64) * UNIT
    }
}
