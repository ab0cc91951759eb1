//! A minimal ZIP writer (stored entries, no compression): the audit bundle of a capture. JPEG and
//! MP4 do not compress further, so deflate would only cost CPU.

/// Builds a ZIP archive of `(name, bytes)` entries. Names must be ASCII; sizes under 4 GiB.
pub fn build(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    // 1980-01-01 00:00 in DOS format: the bundle's time is in its JSON, not in ZIP metadata.
    let (dos_time, dos_date) = (0u16, 0x21u16);
    for (name, data) in entries {
        let crc = crc32fast::hash(data);
        let size = data.len() as u32;
        let offset = out.len() as u32;
        let name = name.as_bytes();
        let header = |sig: u32, central_dir: bool, buf: &mut Vec<u8>| {
            buf.extend_from_slice(&sig.to_le_bytes());
            if central_dir {
                buf.extend_from_slice(&20u16.to_le_bytes()); // made by
            }
            buf.extend_from_slice(&20u16.to_le_bytes()); // needed to extract
            buf.extend_from_slice(&0u16.to_le_bytes()); // flags
            buf.extend_from_slice(&0u16.to_le_bytes()); // method: stored
            buf.extend_from_slice(&dos_time.to_le_bytes());
            buf.extend_from_slice(&dos_date.to_le_bytes());
            buf.extend_from_slice(&crc.to_le_bytes());
            buf.extend_from_slice(&size.to_le_bytes());
            buf.extend_from_slice(&size.to_le_bytes());
            buf.extend_from_slice(&(name.len() as u16).to_le_bytes());
            buf.extend_from_slice(&0u16.to_le_bytes()); // extra length
            if central_dir {
                buf.extend_from_slice(&0u16.to_le_bytes()); // comment length
                buf.extend_from_slice(&0u16.to_le_bytes()); // disk number
                buf.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
                buf.extend_from_slice(&0u32.to_le_bytes()); // external attributes
                buf.extend_from_slice(&offset.to_le_bytes());
            }
            buf.extend_from_slice(name);
        };
        header(0x0403_4b50, false, &mut out);
        out.extend_from_slice(data);
        header(0x0201_4b50, true, &mut central);
    }
    let central_offset = out.len() as u32;
    let central_size = central.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // this disk
    out.extend_from_slice(&0u16.to_le_bytes()); // disk with the central directory
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&central_size.to_le_bytes());
    out.extend_from_slice(&central_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // comment length
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The system's unzip (an independent reader) lists and extracts what was written.
    #[test]
    fn unzip_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.zip");
        let big: Vec<u8> = (0..70_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(
            &path,
            build(&[("far.jpg", b"far bytes"), ("clip.mp4", &big)]),
        )
        .unwrap();
        let out = std::process::Command::new("python3")
            .args([
                "-c",
                "import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; \
                 print(','.join(f'{i.filename}:{i.file_size}' for i in z.infolist())); \
                 print(z.read('far.jpg').decode())",
                path.to_str().unwrap(),
            ])
            .output()
            .expect("python3 runs");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{text} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(text, "far.jpg:9,clip.mp4:70000\nfar bytes\n");
    }
}
