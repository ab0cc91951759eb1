//! `faceproof tenant add|list|set|revoke|rotate|capture-token` on a temporary store: secrets printed
//! once, listed without secrets, typed errors for duplicates and unknown tenants, capture tokens.

mod common;

/// `faceproof tenant ARGS --config CONFIG`.
fn run(config: &std::path::Path, args: &[&str]) -> (bool, serde_json::Value) {
    let all: Vec<&str> = std::iter::once("tenant")
        .chain(args.iter().copied())
        .collect();
    common::faceproof(config, &all)
}

#[test]
fn add_list_rotate_revoke() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("faceproof.toml");
    // Other sections may sit in the same file: only [store] is read.
    std::fs::write(
        &config,
        format!(
            "[server]\nbind = \"127.0.0.1:0\"\n\n{}",
            common::store_toml(dir.path())
        ),
    )
    .unwrap();
    let (ok, added) = run(&config, &["add", "acme", "--silent-accept-plain"]);
    assert!(ok, "{added:#}");
    let key = added["fpt_api_key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("fpk_"));
    assert!(
        added["advance_secret_key"]
            .as_str()
            .unwrap()
            .starts_with("fps_")
    );
    assert_eq!(added["hpke_public_key"].as_str().unwrap().len(), 44);

    let (ok, dup) = run(&config, &["add", "acme"]);
    assert!(!ok);
    assert_eq!(dup["error"]["code"], "conflict");

    let (ok, list) = run(&config, &["list"]);
    assert!(ok);
    let text = list.to_string();
    assert!(!text.contains(&key), "the list shows no secret");
    assert!(!text.contains(added["advance_secret_key"].as_str().unwrap()));
    assert_eq!(list[0]["name"], "acme");
    assert_eq!(list[0]["settings"]["silent_accept_plain"], true);
    assert_eq!(list[0]["credentials"].as_array().unwrap().len(), 3);

    let (ok, rotated) = run(&config, &["rotate", "acme"]);
    assert!(ok);
    assert_ne!(rotated["fpt_api_key"], added["fpt_api_key"]);

    let (ok, revoked) = run(&config, &["revoke", "acme"]);
    assert!(ok);
    assert!(revoked["revoked_at_ms"].is_i64());
    let (ok, missing) = run(&config, &["revoke", "nobody"]);
    assert!(!ok);
    assert_eq!(missing["error"]["code"], "not_found");
}

#[test]
fn capture_tokens_and_settings() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("faceproof.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\ncapture_token_ttl_secs = 120\n\n{}",
            common::store_toml(dir.path())
        ),
    )
    .unwrap();
    let (ok, _) = run(&config, &["add", "shop"]);
    assert!(ok);

    let (ok, t) = run(&config, &["capture-token", "shop", "--flow", "fpt"]);
    assert!(ok, "{t:#}");
    assert!(t["capture_token"].as_str().unwrap().starts_with("fct_"));
    assert_eq!(t["flow"], "fpt");
    assert!(t["challenge_id"].is_null());
    let span = t["expires_at_ms"].as_i64().unwrap() - now_ms();
    assert!(
        (110_000..=120_000).contains(&span),
        "[server] ttl read: {span}"
    );

    let (ok, t) = run(
        &config,
        &[
            "capture-token",
            "shop",
            "--flow",
            "advance",
            "--challenge",
            "head-turn",
        ],
    );
    assert!(ok, "{t:#}");
    assert!(
        t["signature_id"].is_string(),
        "a session was reserved: {t:#}"
    );
    assert!(t["challenge_id"].as_str().unwrap().starts_with("chl_"));

    let (ok, e) = run(
        &config,
        &[
            "capture-token",
            "shop",
            "--flow",
            "fpt",
            "--signature-id",
            "x",
        ],
    );
    assert!(!ok);
    assert_eq!(e["error"]["code"], "invalid");
    let (ok, e) = run(&config, &["capture-token", "nobody", "--flow", "fpt"]);
    assert!(!ok);
    assert_eq!(e["error"]["code"], "not_found");

    // A tenant that requires a challenge gets one in every token.
    let (ok, set) = run(&config, &["set", "shop", "--require-challenge", "true"]);
    assert!(ok, "{set:#}");
    assert_eq!(set["settings"]["require_challenge"], true);
    assert_eq!(set["settings"]["silent_accept_plain"], false);
    let (ok, t) = run(&config, &["capture-token", "shop", "--flow", "silent"]);
    assert!(ok);
    assert!(
        t["challenge_id"].as_str().unwrap().starts_with("chl_"),
        "{t:#}"
    );
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[test]
fn webhook_endpoints_show_the_secret_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("faceproof.toml");
    std::fs::write(&config, common::store_toml(dir.path())).unwrap();
    let (ok, _) = run(&config, &["add", "acme"]);
    assert!(ok);
    let (ok, added) = run(
        &config,
        &["webhook", "set", "acme", "https://hooks.example.com/fp"],
    );
    assert!(ok, "{added:#}");
    let secret = added["secret"].as_str().unwrap().to_owned();
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );
    let (ok, list) = run(&config, &["webhook", "list", "acme"]);
    assert!(ok);
    assert_eq!(list[0]["url"], "https://hooks.example.com/fp");
    assert!(
        !list.to_string().contains(&secret),
        "the list shows no secret"
    );
    // The secret is sealed in the database: its bytes are in none of its files (WAL included),
    // while the URL, stored in clear, is found (the scan sees the rows).
    let mut db = Vec::new();
    for f in ["fp.db", "fp.db-wal"] {
        db.extend(std::fs::read(dir.path().join(f)).unwrap_or_default());
    }
    let found = |needle: &[u8]| db.windows(needle.len()).any(|w| w == needle);
    assert!(found(b"https://hooks.example.com/fp"));
    assert!(!found(secret.as_bytes()));

    let (ok, bad) = run(&config, &["webhook", "add", "acme", "ftp://x/"]);
    assert!(!ok);
    assert_eq!(bad["error"]["code"], "invalid");
    let id = added["endpoint_id"].as_str().unwrap();
    let (ok, removed) = run(&config, &["webhook", "remove", "acme", id]);
    assert!(ok, "{removed:#}");
    assert!(removed[0]["revoked_at_ms"].is_i64());
    let (ok, log) = run(&config, &["webhook", "log", "acme"]);
    assert!(ok);
    assert_eq!(log, serde_json::json!([]));
}
