//! Media ingest: untrusted bytes in, decoded and validated frames (or a precise refusal) out.
