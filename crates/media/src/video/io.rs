//! FFmpeg demuxing from a byte buffer, locked down for untrusted input.
//!
//! - The container is identified here from the bytes (no file name, no extension) and must be one
//!   of mov/mp4, matroska/webm or avi; FFmpeg's `format_whitelist` repeats that rule.
//! - Reads come from the caller's buffer through a custom AVIO context. `io_open` is replaced by a
//!   function that refuses everything, so no demuxer can open another file or URL (references,
//!   playlists, ...), whatever the file says.
//! - An interrupt callback and the read callback stop the work when the wall-clock deadline passes.
//! - `avformat_find_stream_info` only opens the allowed decoders, with FFmpeg's `max_pixels` set.

use crate::{Limits, MediaError};
use ffmpeg_next::ffi::*;
use ffmpeg_next::format::context::Input;
use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ptr;
use std::sync::Once;
use std::time::Instant;

/// Demuxer names FFmpeg may use (it reports the matched family, e.g. `mov,mp4,m4a,3gp,3g2,mj2`).
const ALLOWED_DEMUXERS: &[&str] = &["mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi"];
const FORMAT_WHITELIST: &CStr = c"mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi";
/// FFmpeg's `AVPROBE_SCORE_MAX / 4`: below it, FFmpeg itself would keep probing.
const PROBE_SCORE_RETRY: c_int = 25;
/// First container probe size, bytes (FFmpeg's PROBE_BUF_MIN).
const PROBE_START: usize = 2048;
const AVIO_BUFFER_SIZE: usize = 64 * 1024;

static INIT: Once = Once::new();

/// One-time library set-up: FFmpeg logs nothing unless fatal (hostile files make it chatty).
pub(crate) fn ensure_init() {
    INIT.call_once(|| {
        let _ = ffmpeg_next::init();
        ffmpeg_next::util::log::set_level(ffmpeg_next::util::log::Level::Fatal);
    });
}

/// Read position over the caller's bytes, shared with the AVIO callbacks through a raw pointer.
struct Source {
    data: *const u8,
    len: usize,
    pos: usize,
    deadline: Instant,
    timed_out: bool,
}

unsafe extern "C" fn read_packet(opaque: *mut c_void, buf: *mut u8, buf_size: c_int) -> c_int {
    // SAFETY: `opaque` is the `Source` owned by the `MemInput` that owns this AVIO context.
    let src = unsafe { &mut *(opaque as *mut Source) };
    if Instant::now() >= src.deadline {
        src.timed_out = true;
        return AVERROR_EXIT;
    }
    let remaining = src.len - src.pos;
    if remaining == 0 || buf_size <= 0 {
        return AVERROR_EOF;
    }
    let n = remaining.min(buf_size as usize);
    // SAFETY: `pos + n <= len` and FFmpeg hands a buffer of at least `buf_size` bytes.
    unsafe { ptr::copy_nonoverlapping(src.data.add(src.pos), buf, n) };
    src.pos += n;
    n as c_int
}

unsafe extern "C" fn seek(opaque: *mut c_void, offset: i64, whence: c_int) -> i64 {
    // SAFETY: as in `read_packet`.
    let src = unsafe { &mut *(opaque as *mut Source) };
    if whence & AVSEEK_SIZE != 0 {
        return src.len as i64;
    }
    let base = match whence & !AVSEEK_FORCE {
        0 => 0i64,           // SEEK_SET
        1 => src.pos as i64, // SEEK_CUR
        2 => src.len as i64, // SEEK_END
        _ => return i64::from(AVERROR(libc_einval())),
    };
    match base.checked_add(offset) {
        Some(p) if p >= 0 && p <= src.len as i64 => {
            src.pos = p as usize;
            p
        }
        _ => i64::from(AVERROR(libc_einval())),
    }
}

unsafe extern "C" fn interrupt(opaque: *mut c_void) -> c_int {
    // SAFETY: as in `read_packet`; only reads the deadline.
    let src = unsafe { &mut *(opaque as *mut Source) };
    if Instant::now() >= src.deadline {
        src.timed_out = true;
        1
    } else {
        0
    }
}

/// Replaces FFmpeg's `io_open`: nothing beyond the given bytes may ever be opened.
unsafe extern "C" fn refuse_io_open(
    _s: *mut AVFormatContext,
    _pb: *mut *mut AVIOContext,
    _url: *const c_char,
    _flags: c_int,
    _options: *mut *mut AVDictionary,
) -> c_int {
    AVERROR(libc_eperm())
}

const fn libc_einval() -> c_int {
    22
}
const fn libc_eperm() -> c_int {
    1
}

/// An opened demuxer over borrowed bytes. Dropping it closes the demuxer, then frees the AVIO
/// context and its buffer.
pub(crate) struct MemInput<'a> {
    input: ManuallyDrop<Input>,
    avio: *mut AVIOContext,
    source: *mut Source,
    /// FFmpeg's demuxer family name, one of `ALLOWED_DEMUXERS`.
    pub(crate) demuxer: &'static str,
    _bytes: PhantomData<&'a [u8]>,
}

impl<'a> MemInput<'a> {
    /// Identifies the container and reads its header (no stream analysis yet).
    pub(crate) fn open(
        bytes: &'a [u8],
        limits: &Limits,
        deadline: Instant,
    ) -> Result<Self, MediaError> {
        ensure_init();
        let (format, demuxer) = identify(bytes, limits)?;
        let source = Box::into_raw(Box::new(Source {
            data: bytes.as_ptr(),
            len: bytes.len(),
            pos: 0,
            deadline,
            timed_out: false,
        }));
        // SAFETY: plain FFmpeg allocation calls; every failure path frees what was allocated.
        unsafe {
            let buffer = av_malloc(AVIO_BUFFER_SIZE) as *mut u8;
            if buffer.is_null() {
                drop(Box::from_raw(source));
                return Err(MediaError::internal("cannot allocate the AVIO buffer"));
            }
            let avio = avio_alloc_context(
                buffer,
                AVIO_BUFFER_SIZE as c_int,
                0,
                source as *mut c_void,
                Some(read_packet),
                None,
                Some(seek),
            );
            if avio.is_null() {
                av_free(buffer as *mut c_void);
                drop(Box::from_raw(source));
                return Err(MediaError::internal("cannot allocate the AVIO context"));
            }
            let mut ctx = avformat_alloc_context();
            if ctx.is_null() {
                free_avio(avio, source);
                return Err(MediaError::internal("cannot allocate the format context"));
            }
            (*ctx).pb = avio;
            (*ctx).flags |= AVFMT_FLAG_CUSTOM_IO;
            (*ctx).interrupt_callback = AVIOInterruptCB {
                callback: Some(interrupt),
                opaque: source as *mut c_void,
            };
            (*ctx).io_open = Some(refuse_io_open);
            (*ctx).max_streams = limits.max_streams.min(c_int::MAX as u32) as c_int;
            (*ctx).probesize = limits.probe_bytes.clamp(32, i64::MAX as u64) as i64;
            (*ctx).format_whitelist = av_strdup(FORMAT_WHITELIST.as_ptr());
            let ret = avformat_open_input(&mut ctx, c"".as_ptr(), format, ptr::null_mut());
            if ret < 0 {
                // FFmpeg freed the format context; the custom AVIO context is still ours.
                let timed_out = (*source).timed_out;
                free_avio(avio, source);
                return Err(if timed_out {
                    MediaError::Timeout {
                        seconds: limits.decode_timeout_seconds,
                    }
                } else {
                    MediaError::corrupt(format!(
                        "the {} container cannot be read: {}",
                        short_name(demuxer),
                        ffmpeg_next::Error::from(ret)
                    ))
                });
            }
            Ok(MemInput {
                input: ManuallyDrop::new(Input::wrap(ctx)),
                avio,
                source,
                demuxer,
                _bytes: PhantomData,
            })
        }
    }

    /// Runs FFmpeg's stream analysis with only the allowed decoders, single-threaded and with the
    /// pixel limit.
    pub(crate) fn find_stream_info(&mut self, limits: &Limits) -> Result<(), MediaError> {
        let mut decoders: Vec<String> = Vec::new();
        for c in &limits.video_codecs {
            decoders.push(c.clone());
            if c == "av1" {
                decoders.push("libdav1d".into());
            }
        }
        let whitelist = CString::new(decoders.join(","))
            .map_err(|_| MediaError::internal("codec names contain NUL"))?;
        let max_pixels = CString::new(limits.max_video_pixels.to_string())
            .map_err(|_| MediaError::internal("bad pixel limit"))?;
        // SAFETY: the context is open; the option dictionaries are freed after the call.
        unsafe {
            let ctx = self.input.as_mut_ptr();
            (*ctx).codec_whitelist = av_strdup(whitelist.as_ptr());
            let n = (*ctx).nb_streams as usize;
            let mut options: Vec<*mut AVDictionary> = vec![ptr::null_mut(); n];
            for d in options.iter_mut() {
                av_dict_set(d, c"max_pixels".as_ptr(), max_pixels.as_ptr(), 0);
                av_dict_set(d, c"threads".as_ptr(), c"1".as_ptr(), 0);
            }
            let opts_ptr = if n > 0 {
                options.as_mut_ptr()
            } else {
                ptr::null_mut()
            };
            let ret = avformat_find_stream_info(ctx, opts_ptr);
            for d in options.iter_mut() {
                av_dict_free(d);
            }
            if ret < 0 {
                return Err(self.error("stream analysis failed", ret, limits));
            }
        }
        Ok(())
    }

    pub(crate) fn input(&mut self) -> &mut Input {
        &mut self.input
    }

    pub(crate) fn timed_out(&self) -> bool {
        // SAFETY: the source lives as long as `self`.
        unsafe { (*self.source).timed_out }
    }

    /// Maps an FFmpeg error code to `Timeout` (when the deadline stopped it) or `Corrupt`.
    pub(crate) fn error(&self, what: &str, code: c_int, limits: &Limits) -> MediaError {
        if self.timed_out() {
            MediaError::Timeout {
                seconds: limits.decode_timeout_seconds,
            }
        } else {
            MediaError::corrupt(format!("{what}: {}", ffmpeg_next::Error::from(code)))
        }
    }
}

impl Drop for MemInput<'_> {
    fn drop(&mut self) {
        // SAFETY: the demuxer is closed first (it leaves the custom `pb` alone), then the AVIO
        // context it used and the source are freed.
        unsafe {
            ManuallyDrop::drop(&mut self.input);
            free_avio(self.avio, self.source);
        }
    }
}

/// Frees a custom AVIO context (its buffer may have been reallocated by FFmpeg) and its source.
unsafe fn free_avio(mut avio: *mut AVIOContext, source: *mut Source) {
    unsafe {
        if !avio.is_null() {
            av_freep(&mut (*avio).buffer as *mut *mut u8 as *mut c_void);
            avio_context_free(&mut avio);
        }
        drop(Box::from_raw(source));
    }
}

/// Names the container from the bytes alone. Only the allowed demuxer families pass.
fn identify(
    bytes: &[u8],
    limits: &Limits,
) -> Result<(*const AVInputFormat, &'static str), MediaError> {
    let limit = bytes
        .len()
        .min(limits.probe_bytes.max(4096) as usize)
        .min(c_int::MAX as usize - 64);
    // Growing probes, as FFmpeg's own av_probe_input_buffer reads a file: 2 KiB, doubled until a
    // demuxer is sure or the limit is reached. Some demuxers' probes scan every byte they are
    // given (raw elementary streams, MPEG-TS): one probe of the whole 2 MiB limit was 2.7 % of
    // `bench check`'s CPU samples (two opens per request), even for an MP4 whose `ftyp` box
    // settles it in the first 2 KiB.
    let mut n = limit.min(PROBE_START);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        buf.resize(n + AVPROBE_PADDING_SIZE as usize, 0);
        buf[..n].copy_from_slice(&bytes[..n]);
        let pd = AVProbeData {
            filename: c"".as_ptr(),
            buf: buf.as_mut_ptr(),
            buf_size: n as c_int,
            mime_type: ptr::null(),
        };
        let mut score: c_int = 0;
        // SAFETY: `pd` points into `buf`, padded with zeros as FFmpeg requires.
        let format = unsafe { av_probe_input_format3(&pd, 1, &mut score) };
        if !format.is_null() && score > PROBE_SCORE_RETRY {
            // SAFETY: demuxer names are static C strings.
            let name = unsafe { CStr::from_ptr((*format).name) }.to_string_lossy();
            return match ALLOWED_DEMUXERS.iter().find(|a| **a == name) {
                Some(allowed) => Ok((format, allowed)),
                None => Err(MediaError::UnsupportedFormat {
                    format: short_name(&name).to_string(),
                }),
            };
        }
        if n >= limit {
            return Err(MediaError::NotMedia);
        }
        n = (n * 2).min(limit);
    }
}

fn short_name(demuxer: &str) -> &str {
    demuxer.split(',').next().unwrap_or(demuxer)
}
