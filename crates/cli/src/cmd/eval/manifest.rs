//! The evaluation manifest: `video,id_photo,label,codes[,species]`, one sample per line.

use std::path::{Path, PathBuf};

/// What a sample is: the engine's own training label.
pub use faceproof_engine::calibrate::fit::Label;

/// One manifest line, paths resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub video: PathBuf,
    pub id_photo: Option<PathBuf>,
    pub label: Label,
    /// Expected reason codes (snake_case), possibly none.
    pub codes: Vec<String>,
    /// Attack species for APCER (default: the label).
    pub species: String,
}

impl Row {
    /// An ID photo row expecting `face_mismatch` is an impostor pair.
    pub fn is_impostor(&self) -> bool {
        self.codes.iter().any(|c| c == "face_mismatch")
    }
}

pub fn read(path: &Path) -> Result<Vec<Row>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse(&text, path.parent().unwrap_or(Path::new(".")))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses manifest text; relative paths are joined to `base`.
pub fn parse(text: &str, base: &Path) -> Result<Vec<Row>, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let (_, header) = lines.next().ok_or("empty manifest")?;
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    if names.len() < 4 || names[..4] != ["video", "id_photo", "label", "codes"] {
        return Err(format!(
            "header must start with video,id_photo,label,codes; found {header:?}"
        ));
    }
    let resolve = |p: &str| {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        }
    };
    let mut rows = Vec::new();
    for (n, line) in lines {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() < 4 || cells.len() > names.len().max(5) {
            return Err(format!(
                "line {}: {} fields, expected 4 or 5",
                n + 1,
                cells.len()
            ));
        }
        let label = match cells[2] {
            "live" => Label::Live,
            "spoof" => Label::Spoof,
            "deepfake" => Label::Deepfake,
            other => {
                return Err(format!(
                    "line {}: label {other:?} is not live, spoof or deepfake",
                    n + 1
                ));
            }
        };
        if cells[0].is_empty() {
            return Err(format!("line {}: no video", n + 1));
        }
        let species = match cells.get(4).filter(|s| !s.is_empty()) {
            Some(s) if label != Label::Live => s.to_string(),
            _ => label.as_str().to_string(),
        };
        rows.push(Row {
            video: resolve(cells[0]),
            id_photo: (!cells[1].is_empty()).then(|| resolve(cells[1])),
            label,
            codes: cells[3]
                .split(';')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(String::from)
                .collect(),
            species,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rows_resolves_paths_and_refuses_bad_labels() {
        let text = "video,id_photo,label,codes,species\n\
                    a.mp4,id/a.jpg,live,low_resolution\n\
                    # a comment\n\
                    /abs/b.mp4,,spoof,still_image;spoof,still\n\
                    c.mp4,id/x.jpg,live,face_mismatch\n";
        let rows = parse(text, Path::new("set")).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].video, Path::new("set/a.mp4"));
        assert_eq!(rows[0].id_photo.as_deref(), Some(Path::new("set/id/a.jpg")));
        assert_eq!(
            (rows[0].species.as_str(), rows[0].is_impostor()),
            ("live", false)
        );
        assert_eq!(rows[1].video, Path::new("/abs/b.mp4"));
        assert_eq!(rows[1].codes, ["still_image", "spoof"]);
        assert_eq!(
            (rows[1].label, rows[1].species.as_str()),
            (Label::Spoof, "still")
        );
        assert!(rows[2].is_impostor());
        let bad = parse(
            "video,id_photo,label,codes\nx.mp4,,maybe,\n",
            Path::new("."),
        );
        assert!(bad.unwrap_err().contains("maybe"));
        assert!(parse("path,label\n", Path::new(".")).is_err());
    }
}
