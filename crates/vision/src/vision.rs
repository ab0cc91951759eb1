//! [`Vision`]: every model loaded once, and the per-image pipeline
//! detect -> mesh (-> refined mesh) -> 5 points, pose, quality (-> iris, anti-spoofing, embedding).

use crate::antispoof::AntiSpoof;
use crate::config::{Range, VisionConfig};
use crate::deepfake::DeepfakeNet;
use crate::detector::{self, Detection, Detector};
use crate::embed::{self, Embedder, Embedding, Landmarks5};
use crate::error::Result;
use crate::iris::{Eyes, Iris};
use crate::mesh::{self, FaceMesh, Mesh};
use crate::minifas::MiniFas;
use crate::pack::{self, Role};
use crate::pose::Pose;
use crate::quality::{self, Quality, Thumbnail};
use crate::runtime::{Model, Runtime};
use image::RgbImage;
use serde::Serialize;

/// What [`Vision::analyze`] computes beyond detection, mesh, 5 points, pose and quality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnalyzeOptions {
    /// Detector(s) to run.
    pub range: Range,
    /// Iris and eyelid contour per eye.
    pub iris: bool,
    /// The anti-spoofing (DTN) score `pad_score` (ignored when that model is disabled in the config).
    pub antispoof: bool,
    /// The MiniFASNet P(real) `pad_real` (ignored when that model is disabled in the config).
    pub minifas: bool,
    /// Face embedding (all faces of the image in one batch).
    pub embedding: bool,
    /// Run the configured extra mesh passes (`mesh.refine_passes`); false runs the mesh once on the
    /// detector's ROI (half the mesh cost, slightly looser alignment: for video frames).
    pub refine_mesh: bool,
}

impl AnalyzeOptions {
    /// What every video frame's face gets: short range, one mesh pass, pose and quality; nothing
    /// per face beyond (the engine runs the iris on the main face itself).
    pub const MESH_ONLY: AnalyzeOptions = AnalyzeOptions {
        range: Range::Short,
        iris: false,
        antispoof: false,
        minifas: false,
        embedding: false,
        refine_mesh: false,
    };

    /// A face to align and embed: both detector ranges, the refined mesh, nothing per face
    /// beyond (the embedding is asked for separately, on the chosen face).
    pub const ALIGN_ONLY: AnalyzeOptions = AnalyzeOptions {
        range: Range::Auto,
        iris: false,
        antispoof: false,
        minifas: false,
        embedding: false,
        refine_mesh: true,
    };
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        Self {
            range: Range::Auto,
            iris: true,
            antispoof: true,
            minifas: true,
            embedding: false,
            refine_mesh: true,
        }
    }
}

/// Everything measured on one face.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Face {
    /// Detector output.
    pub detection: Detection,
    /// 468-point mesh.
    pub mesh: FaceMesh,
    /// The 5 alignment points (from the mesh).
    pub landmarks: Landmarks5,
    /// Head pose.
    pub pose: Pose,
    /// Quality measurements.
    pub quality: Quality,
    /// Iris and eyelids, when asked for.
    pub eyes: Option<Eyes>,
    /// Anti-spoofing score (FaceAntiSpoofing, higher = spoof), when asked for and enabled.
    pub pad_score: Option<f32>,
    /// MiniFASNet P(real) (higher = live), when anti-spoofing is asked for and `minifas` enabled.
    pub pad_real: Option<f32>,
    /// L2-normalised embedding, when asked for.
    pub embedding: Option<Embedding>,
}

impl Face {
    /// Area of the detector box, pixels².
    pub fn area(&self) -> f32 {
        self.detection.rect.area()
    }
}

/// The largest face (by detector box area), if any.
pub fn largest(faces: &[Face]) -> Option<&Face> {
    faces.iter().max_by(|a, b| a.area().total_cmp(&b.area()))
}

/// Outcome of comparing two embeddings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Match {
    /// Cosine similarity, -1..1.
    pub cosine: f32,
    /// The same on the 0-100 scale ([`embed::percent`]).
    pub similarity: f32,
}

/// All models of the pipeline, loaded and verified. `Send + Sync`: share one behind an `Arc`.
#[derive(Debug)]
pub struct Vision {
    cfg: VisionConfig,
    short: Detector,
    full: Detector,
    mesh: Mesh,
    iris: Iris,
    embedder: Embedder,
    antispoof: Option<AntiSpoof>,
    minifas: Option<MiniFas>,
    deepfake: Option<DeepfakeNet>,
}

impl Vision {
    /// Initialises ONNX Runtime from the configured library and loads every model.
    pub fn load(cfg: &VisionConfig) -> Result<Vision> {
        cfg.validate()?;
        let rt = Runtime::init(&cfg.resolved_runtime_library(), cfg.threads)?
            .with_spinning(cfg.spin_threads);
        Vision::with_runtime(&rt, cfg)
    }

    /// Loads every model on an existing runtime: its environment and spinning setting, the thread
    /// counts of the config.
    pub fn with_runtime(rt: &Runtime, cfg: &VisionConfig) -> Result<Vision> {
        cfg.validate()?;
        let small = rt.with_threads(cfg.small_model_threads);
        let big = rt.with_threads(cfg.threads);
        let load = |role: Role| {
            let rt = if role == Role::AntiSpoof {
                &big
            } else {
                &small
            };
            // The per-frame models get a pool (see `frame_model_sessions`); the rest run once
            // or a few times per check.
            let sessions = match role {
                Role::DetectorShort | Role::DetectorFull | Role::Mesh | Role::Iris => {
                    cfg.frame_model_sessions
                }
                _ => 1,
            };
            Model::load_pool(rt, role, &pack::model_spec(cfg, role)?, sessions)
        };
        // Every model's file is hashed and its session built (graph optimisation) on a thread of
        // its own: on two cores this halves the start-up of every process (`check`, `serve`),
        // which for one CLI check had been ~40 % of its CPU. Errors are reported in the order
        // the models were loaded in before.
        let roles = [
            Some(Role::DetectorShort),
            Some(Role::DetectorFull),
            Some(Role::Mesh),
            Some(Role::Iris),
            Some(cfg.embedder.role()),
            cfg.antispoof.enabled.then_some(Role::AntiSpoof),
            cfg.minifas.enabled.then_some(Role::MiniFas),
            cfg.models.deepfake.is_some().then_some(Role::Deepfake),
        ];
        let [
            short,
            full,
            mesh,
            iris,
            embedder,
            antispoof,
            minifas,
            deepfake,
        ] = std::thread::scope(|scope| {
            let handles = roles.map(|role| role.map(|role| scope.spawn(move || load(role))));
            handles.map(|h| h.map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))))
        });
        let loaded = |m: Option<Result<Model>>| m.expect("an enabled role was loaded");
        let weak = cfg.detector.require_mesh_presence;
        let short = Detector::new(loaded(short)?, Range::Short, cfg.detector.short, weak)?;
        let full = Detector::new(loaded(full)?, Range::Full, cfg.detector.full, weak)?;
        let mesh = Mesh::new(loaded(mesh)?)?;
        let iris = Iris::new(loaded(iris)?, cfg.iris.roi_scale)?;
        let embedder = Embedder::new(loaded(embedder)?, cfg.embedder)?;
        let antispoof = antispoof
            .map(|m| AntiSpoof::new(m?, cfg.antispoof.crop_scale))
            .transpose()?;
        let minifas = minifas
            .map(|m| MiniFas::new(m?, cfg.minifas.crop_scale, cfg.minifas.channels))
            .transpose()?;
        let deepfake = deepfake
            .map(|m| DeepfakeNet::new(m?, cfg.deepfake.clone()))
            .transpose()?;
        Ok(Vision {
            cfg: cfg.clone(),
            short,
            full,
            mesh,
            iris,
            embedder,
            antispoof,
            minifas,
            deepfake,
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &VisionConfig {
        &self.cfg
    }

    /// Every loaded model, in pipeline order.
    pub fn models(&self) -> Vec<&Model> {
        let mut m = vec![
            self.short.model(),
            self.full.model(),
            self.mesh.model(),
            self.iris.model(),
            self.embedder.model(),
        ];
        if let Some(a) = &self.antispoof {
            m.push(a.model());
        }
        if let Some(a) = &self.minifas {
            m.push(a.model());
        }
        if let Some(d) = &self.deepfake {
            m.push(d.model());
        }
        m
    }

    /// The detector of a range (`Auto` gives the full-range one).
    pub fn detector(&self, range: Range) -> &Detector {
        match range {
            Range::Short => &self.short,
            _ => &self.full,
        }
    }

    /// The mesh model.
    pub fn mesh_model(&self) -> &Mesh {
        &self.mesh
    }

    /// The iris model.
    pub fn iris_model(&self) -> &Iris {
        &self.iris
    }

    /// The embedder.
    pub fn embedder(&self) -> &Embedder {
        &self.embedder
    }

    /// The anti-spoofing model, when enabled.
    pub fn antispoof(&self) -> Option<&AntiSpoof> {
        self.antispoof.as_ref()
    }

    /// The MiniFASNet-style anti-spoofing model, when enabled.
    pub fn minifas(&self) -> Option<&MiniFas> {
        self.minifas.as_ref()
    }

    /// The operator's deepfake detector, when `[vision.models] deepfake` is set.
    pub fn deepfake(&self) -> Option<&DeepfakeNet> {
        self.deepfake.as_ref()
    }

    /// Raw detections (before the mesh-presence check), best score first.
    pub fn detect(&self, img: &RgbImage, range: Range) -> Result<Vec<Detection>> {
        match range {
            Range::Short => self.short.detect(img),
            Range::Full => self.full.detect(img),
            Range::Auto => Ok(detector::merge(
                self.short.detect(img)?,
                self.full.detect(img)?,
                self.cfg.detector.auto_merge_iou,
            )),
        }
    }

    /// The mesh of a detected face, refined `refine_passes` times ([`Vision::analyze`] uses the
    /// config's `mesh.refine_passes`).
    pub fn mesh(&self, img: &RgbImage, det: &Detection, refine_passes: u32) -> Result<FaceMesh> {
        let scale = self.cfg.mesh.roi_scale;
        let mut m = self.mesh.run(img, &mesh::roi_from_detection(det, scale))?;
        for _ in 0..refine_passes {
            if m.presence < self.cfg.mesh.min_presence {
                break;
            }
            m = self.mesh.run(img, &m.refined_roi(scale))?;
        }
        Ok(m)
    }

    /// Detects and measures every face of an upright RGB image. Faces whose mesh presence is below
    /// `mesh.min_presence` are dropped when `detector.require_mesh_presence` is set.
    pub fn analyze(&self, img: &RgbImage, opts: &AnalyzeOptions) -> Result<Vec<Face>> {
        let mut faces = Vec::new();
        let dets = self.detect(img, opts.range)?;
        if dets.is_empty() {
            return Ok(faces);
        }
        let thumb = Thumbnail::new(img, self.cfg.quality.background_size);
        for det in dets {
            if let Some(face) = self.measure_detection(img, &thumb, det, opts)? {
                faces.push(face);
            }
        }
        if opts.embedding && !faces.is_empty() {
            let batch: Vec<(&RgbImage, Landmarks5)> =
                faces.iter().map(|f| (img, f.landmarks)).collect();
            let embs = self.embedder.embed_batch(&batch)?;
            for (f, e) in faces.iter_mut().zip(embs) {
                f.embedding = Some(e);
            }
        }
        Ok(faces)
    }

    /// Measures one detected face (no embedding: see [`Vision::embed`]). `None` when the mesh says
    /// there is no face and the config requires one.
    pub fn analyze_detection(
        &self,
        img: &RgbImage,
        det: Detection,
        opts: &AnalyzeOptions,
    ) -> Result<Option<Face>> {
        let thumb = Thumbnail::new(img, self.cfg.quality.background_size);
        self.measure_detection(img, &thumb, det, opts)
    }

    fn measure_detection(
        &self,
        img: &RgbImage,
        thumb: &Thumbnail,
        det: Detection,
        opts: &AnalyzeOptions,
    ) -> Result<Option<Face>> {
        let passes = if opts.refine_mesh {
            self.cfg.mesh.refine_passes
        } else {
            0
        };
        let mesh = self.mesh(img, &det, passes)?;
        if self.cfg.detector.require_mesh_presence && mesh.presence < self.cfg.mesh.min_presence {
            return Ok(None);
        }
        self.measure_mesh(img, thumb, det, mesh, opts).map(Some)
    }

    /// Measures a face whose mesh was computed elsewhere (a video tracker runs the mesh on the
    /// previous frame's landmarks instead of on a fresh detection): 5 points, pose, quality and
    /// what `opts` asks for (no embedding). `det` gives the face box the quality measures read;
    /// `thumb` is this image's [`Thumbnail`] at `quality.background_size`.
    pub fn measure_mesh(
        &self,
        img: &RgbImage,
        thumb: &Thumbnail,
        det: Detection,
        mesh: FaceMesh,
        opts: &AnalyzeOptions,
    ) -> Result<Face> {
        let landmarks = Landmarks5::from_mesh(&mesh);
        let pose = Pose::from_mesh(&mesh);
        let quality = quality::measure(
            img,
            thumb,
            &det,
            &mesh,
            pose,
            (landmarks.right_eye, landmarks.left_eye),
            &self.cfg.quality,
        );
        let eyes = if opts.iris {
            Some(self.iris.run(img, &mesh)?)
        } else {
            None
        };
        let pad_score = match (&self.antispoof, opts.antispoof) {
            (Some(a), true) => Some(a.score(img, &det)?),
            _ => None,
        };
        let pad_real = match (&self.minifas, opts.minifas) {
            (Some(a), true) => Some(a.score(img, &det)?),
            _ => None,
        };
        Ok(Face {
            detection: det,
            mesh,
            landmarks,
            pose,
            quality,
            eyes,
            pad_score,
            pad_real,
            embedding: None,
        })
    }

    /// The background thumbnail [`Vision::measure_mesh`] needs, once per image.
    pub fn thumbnail(&self, img: &RgbImage) -> Thumbnail {
        Thumbnail::new(img, self.cfg.quality.background_size)
    }

    /// Embedding of one face.
    pub fn embed(&self, img: &RgbImage, face: &Face) -> Result<Embedding> {
        self.embedder.embed(img, &face.landmarks)
    }

    /// How similar two embeddings are. Whether that is a match is the engine's decision
    /// (`engine.matching`, per embedder): vision measures, it does not judge.
    pub fn compare(&self, a: &Embedding, b: &Embedding) -> Match {
        let cosine = a.cosine(b);
        Match {
            cosine,
            similarity: embed::percent(cosine),
        }
    }
}
