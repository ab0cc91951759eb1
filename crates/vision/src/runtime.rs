//! ONNX Runtime behind one small type: [`Runtime`] (the process-wide environment, loaded from a
//! shared library) and [`Model`] (one verified session with a reusable input buffer).

use crate::config::ModelSpec;
use crate::error::{Result, VisionError};
use crate::pack::Role;
use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::TensorRef;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// The ONNX Runtime environment: one per process (an ONNX Runtime rule), created on first use and
/// shared by every [`Runtime`] value. Cheap to clone.
#[derive(Clone)]
pub struct Runtime {
    env: Environment,
    threads: usize,
    spinning: bool,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("threads", &self.threads)
            .field("spinning", &self.spinning)
            .finish_non_exhaustive()
    }
}

static ENV: OnceLock<(PathBuf, Environment)> = OnceLock::new();
static ENV_INIT: Mutex<()> = Mutex::new(());

impl Runtime {
    /// Loads ONNX Runtime from `lib_path` (once per process) and returns a handle whose sessions use
    /// `threads` intra-op threads. A later call with another library path is an error: the process
    /// keeps the first one.
    pub fn init(lib_path: &Path, threads: usize) -> Result<Runtime> {
        let err = |reason: String| VisionError::Runtime {
            path: lib_path.to_path_buf(),
            reason,
        };
        if threads == 0 {
            return Err(err("threads must be >= 1".into()));
        }
        let _guard = ENV_INIT.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((loaded, env)) = ENV.get() {
            if !same_file(loaded, lib_path) {
                return Err(err(format!(
                    "ONNX Runtime is already loaded from {} in this process",
                    loaded.display()
                )));
            }
            return Ok(Runtime {
                env: env.clone(),
                threads,
                spinning: false,
            });
        }
        if !lib_path.is_file() {
            return Err(err(
                "file missing (run scripts/fetch-models.sh, or set vision.runtime_library)".into(),
            ));
        }
        let env = ort::init_from(lib_path)
            .map_err(|e| err(e.to_string()))?
            .with_name("faceproof")
            .with_telemetry(false)
            .build()
            .map_err(|e| err(e.to_string()))?;
        let _ = ENV.set((lib_path.to_path_buf(), env.clone()));
        Ok(Runtime {
            env,
            threads,
            spinning: false,
        })
    }

    /// Intra-op threads of the sessions this handle creates.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The same environment with another thread count.
    pub fn with_threads(&self, threads: usize) -> Runtime {
        Runtime {
            threads: threads.max(1),
            ..self.clone()
        }
    }

    /// Whether sessions created from this handle let their worker threads busy-wait for work
    /// (ONNX Runtime's default is yes; off here unless asked, see [`crate::VisionConfig::spin_threads`]).
    pub fn with_spinning(&self, spinning: bool) -> Runtime {
        Runtime {
            spinning,
            ..self.clone()
        }
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Shape of a model input or output as declared in the ONNX file (-1 = dynamic).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    /// Name in the graph.
    pub name: String,
    /// Dimensions; -1 where the graph leaves them dynamic.
    pub shape: Vec<i64>,
}

struct Slot {
    session: Session,
    input: Vec<f32>,
}

/// One ONNX model: a small pool of sessions of the same file, each with its reusable input buffer.
///
/// Thread safety: `Model` is `Send + Sync`. `ort` needs exclusive access to a session to run it, so
/// each session sits behind its own mutex (preprocessing into the reused input buffer happens under
/// the same lock) and a call takes the first free one. With one session concurrent calls wait on
/// each other; with `sessions` of them that many calls run at once, which is how two frame threads
/// of one check, or two concurrent checks, use both cores on the small per-frame models. Each extra
/// session costs one more copy of the weights (a few MB for the per-frame models).
pub struct Model {
    role: Role,
    path: PathBuf,
    sha256: String,
    inputs: Vec<TensorInfo>,
    outputs: Vec<TensorInfo>,
    slots: Vec<Mutex<Slot>>,
    /// Where the next caller starts looking for a free session (spreads waiters over the pool).
    next: AtomicUsize,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("role", &self.role)
            .field("path", &self.path)
            .field("sha256", &self.sha256)
            .field("inputs", &self.inputs)
            .field("outputs", &self.outputs)
            .field("sessions", &self.slots.len())
            .finish()
    }
}

impl Model {
    /// Reads the file, checks its sha256 when the spec has one, and creates one session.
    pub fn load(rt: &Runtime, role: Role, spec: &ModelSpec) -> Result<Model> {
        Model::load_pool(rt, role, spec, 1)
    }

    /// Like [`Model::load`] with `sessions` (>= 1) sessions of the file, so that many calls run
    /// at once.
    pub fn load_pool(rt: &Runtime, role: Role, spec: &ModelSpec, sessions: usize) -> Result<Model> {
        let path = spec.path.clone();
        if !path.is_file() {
            return Err(VisionError::ModelMissing {
                role: role.name(),
                path,
            });
        }
        let bytes = std::fs::read(&path).map_err(|source| VisionError::Io {
            path: path.clone(),
            source,
        })?;
        let sha256 = hex(&Sha256::digest(&bytes));
        if let Some(expected) = &spec.sha256
            && !expected.eq_ignore_ascii_case(&sha256)
        {
            return Err(VisionError::Checksum {
                role: role.name(),
                path,
                expected: expected.clone(),
                actual: sha256,
            });
        }
        let ort_err = |e: ort::Error| VisionError::Inference {
            role: role.name(),
            message: e.to_string(),
        };
        let session = || {
            Session::builder(&rt.env)
                .map_err(ort_err)?
                .with_optimization_level(GraphOptimizationLevel::Level3)
                .map_err(|e| ort_err(e.into()))?
                .with_intra_threads(rt.threads)
                .map_err(|e| ort_err(e.into()))?
                .with_inter_threads(1)
                .map_err(|e| ort_err(e.into()))?
                .with_intra_op_spinning(rt.spinning)
                .map_err(|e| ort_err(e.into()))?
                .commit_from_memory(&bytes)
                .map_err(ort_err)
        };
        let first = session()?;
        let info = |o: &ort::value::Outlet| TensorInfo {
            name: o.name().to_owned(),
            shape: o
                .dtype()
                .tensor_shape()
                .map(|s| s.iter().copied().collect())
                .unwrap_or_default(),
        };
        let inputs = first.inputs().iter().map(info).collect();
        let outputs = first.outputs().iter().map(info).collect();
        let mut slots = vec![Mutex::new(Slot {
            session: first,
            input: Vec::new(),
        })];
        for _ in 1..sessions.max(1) {
            slots.push(Mutex::new(Slot {
                session: session()?,
                input: Vec::new(),
            }));
        }
        Ok(Model {
            role,
            path,
            sha256,
            inputs,
            outputs,
            slots,
            next: AtomicUsize::new(0),
        })
    }

    /// The role this model plays.
    pub fn role(&self) -> Role {
        self.role
    }

    /// File the model was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// sha256 of the loaded file.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Sessions in the pool: how many calls run at once.
    pub fn sessions(&self) -> usize {
        self.slots.len()
    }

    /// A free session, or (all busy) the next one in turn, waited for.
    fn slot(&self) -> std::sync::MutexGuard<'_, Slot> {
        let n = self.slots.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n;
        for k in 0..n {
            match self.slots[(start + k) % n].try_lock() {
                Ok(guard) => return guard,
                Err(std::sync::TryLockError::Poisoned(e)) => return e.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => {}
            }
        }
        self.slots[start].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Declared inputs.
    pub fn inputs(&self) -> &[TensorInfo] {
        &self.inputs
    }

    /// Declared outputs.
    pub fn outputs(&self) -> &[TensorInfo] {
        &self.outputs
    }

    /// A contract error for this model.
    pub(crate) fn contract(&self, detail: String) -> VisionError {
        VisionError::Contract {
            role: self.role.name(),
            path: self.path.clone(),
            detail,
        }
    }

    /// Checks that the single image input is `[batch, 3, h, w]` with a fixed `h`, `w` and returns
    /// them; `batch` must be 1 or dynamic.
    pub(crate) fn image_input(&self) -> Result<(usize, usize)> {
        let [input] = self.inputs.as_slice() else {
            return Err(self.contract(format!("expected one input, found {}", self.inputs.len())));
        };
        match input.shape.as_slice() {
            &[n, 3, h, w] if (n == 1 || n < 0) && h > 0 && w > 0 => Ok((h as usize, w as usize)),
            other => Err(self.contract(format!(
                "input {} has shape {other:?}, expected [1 or N, 3, H, W] (NCHW float RGB)",
                input.name
            ))),
        }
    }

    /// Checks the number of outputs and the element count (per batch item) of each.
    pub(crate) fn expect_outputs(&self, per_item: &[usize]) -> Result<()> {
        if self.outputs.len() != per_item.len() {
            return Err(self.contract(format!(
                "expected {} outputs, found {}",
                per_item.len(),
                self.outputs.len()
            )));
        }
        for (o, &want) in self.outputs.iter().zip(per_item) {
            let got: i64 = o.shape.iter().skip(1).product();
            if want != 0 && got != want as i64 {
                return Err(self.contract(format!(
                    "output {} has shape {:?}: {} values per item, expected {want}",
                    o.name, o.shape, got
                )));
            }
        }
        Ok(())
    }

    /// Runs the model on a ready NCHW input and returns every output, flattened, in declaration
    /// order. For benchmarks and for checking a model numerically against a reference; the typed
    /// wrappers are the way to use a model on images.
    pub fn run_raw(&self, shape: [usize; 4], input: &[f32]) -> Result<Vec<Vec<f32>>> {
        if shape.iter().product::<usize>() != input.len() {
            return Err(VisionError::InvalidInput(format!(
                "input of {} values for shape {shape:?}",
                input.len()
            )));
        }
        self.run(
            shape,
            |buf| buf.copy_from_slice(input),
            |outs| outs.iter().map(|o| o.to_vec()).collect(),
        )
    }

    /// Runs the model once: `fill` writes the input (a buffer of `shape`'s element count, reused
    /// between calls), `read` receives every output as a flat slice, in declaration order.
    pub(crate) fn run<R>(
        &self,
        shape: [usize; 4],
        fill: impl FnOnce(&mut [f32]),
        read: impl FnOnce(&[&[f32]]) -> R,
    ) -> Result<R> {
        let ort_err = |e: ort::Error| VisionError::Inference {
            role: self.role.name(),
            message: e.to_string(),
        };
        let mut guard = self.slot();
        let Slot { session, input } = &mut *guard;
        let len = shape.iter().product();
        input.resize(len, 0.0);
        fill(input);
        let tensor = TensorRef::from_array_view((shape, &input[..])).map_err(ort_err)?;
        let outputs = session.run(ort::inputs![tensor]).map_err(ort_err)?;
        let mut views: Vec<&[f32]> = Vec::with_capacity(outputs.len());
        for i in 0..outputs.len() {
            let (_, data) = outputs[i].try_extract_tensor::<f32>().map_err(ort_err)?;
            views.push(data);
        }
        Ok(read(&views))
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}
