//! Tenants, their credentials, authentication, and the tenant-scoped handle.
//!
//! Credentials at rest:
//! - FPT API keys: only the SHA-256 of the key (keys are 256-bit random, so a fast hash suffices)
//!   and a short display prefix.
//! - ADVANCE access key + secret key: the access key in clear (it is an identifier), the secret
//!   sealed with ChaCha20-Poly1305 under a key derived from the master key, because verifying a
//!   client's signature needs the secret itself.
//! - HPKE X25519 key pair for the silent-compare envelope: public key in clear, private key sealed.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;
use zeroize::Zeroizing;

use crate::Store;
use crate::crypto::{self, b64, new_id, new_token, sha256_hex};
use crate::error::{BackendOp, Result, StoreError};

/// How a credential row is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// FPT-style `api-key` header value.
    FptApiKey,
    /// ADVANCE-style access key + secret key.
    AdvanceAccessKey,
    /// X25519 key pair for HPKE envelopes (silent video + photo compare).
    HpkeX25519,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::FptApiKey => "fpt_api_key",
            CredentialKind::AdvanceAccessKey => "advance_access_key",
            CredentialKind::HpkeX25519 => "hpke_x25519",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "fpt_api_key" => CredentialKind::FptApiKey,
            "advance_access_key" => CredentialKind::AdvanceAccessKey,
            "hpke_x25519" => CredentialKind::HpkeX25519,
            other => return Err(StoreError::corrupt(format!("credential kind {other:?}"))),
        })
    }
}

/// Per-tenant switches, stored as JSON with the tenant.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TenantSettings {
    /// Accept plain base64 `video` / `image` on the silent-compare API besides HPKE envelopes.
    pub silent_accept_plain: bool,
    /// Refuse uploads (FPT, silent, ADVANCE capture) that do not carry a server-issued challenge.
    pub require_challenge: bool,
    /// 1:N face search (duplicate identities, blocklist): off unless the tenant opts in.
    pub gallery: GallerySettings,
}

/// A tenant's 1:N switches (see `docs/gallery.md`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GallerySettings {
    /// Search every new session against the tenant's gallery and blocklist, and keep templates.
    pub enabled: bool,
    /// A duplicate identity fails the check (`error`) instead of warning.
    pub duplicate_is_error: bool,
}

/// A tenant as listed by the admin API: never any secret.
#[derive(Clone, Debug, Serialize)]
pub struct TenantInfo {
    pub id: String,
    pub name: String,
    pub settings: TenantSettings,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
    pub credentials: Vec<CredentialInfo>,
}

/// A credential as listed: its public part only.
#[derive(Clone, Debug, Serialize)]
pub struct CredentialInfo {
    pub id: String,
    pub kind: CredentialKind,
    /// API key: its first characters; access key: the key; HPKE: the base64 public key.
    pub public: String,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

/// The secrets of a new tenant or a rotation, returned exactly once. `Debug` redacts them.
pub struct IssuedCredentials {
    pub tenant_id: String,
    pub tenant_name: String,
    /// Value of the FPT `api-key` header.
    pub fpt_api_key: Zeroizing<String>,
    /// ADVANCE access key (an identifier).
    pub advance_access_key: String,
    /// ADVANCE secret key.
    pub advance_secret_key: Zeroizing<String>,
    /// Id of the HPKE key pair (clients send it back with envelopes).
    pub hpke_key_id: String,
    /// X25519 public key, standard base64.
    pub hpke_public_key: String,
}

impl std::fmt::Debug for IssuedCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedCredentials")
            .field("tenant_id", &self.tenant_id)
            .field("tenant_name", &self.tenant_name)
            .field("fpt_api_key", &"<redacted>")
            .field("advance_access_key", &self.advance_access_key)
            .field("advance_secret_key", &"<redacted>")
            .field("hpke_key_id", &self.hpke_key_id)
            .field("hpke_public_key", &self.hpke_public_key)
            .finish()
    }
}

/// A tenant's HPKE public key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HpkePublicKey {
    pub key_id: String,
    pub public_key: [u8; 32],
}

/// A tenant's HPKE key pair, private key decrypted (zeroed on drop; `Debug` redacts it).
pub struct HpkeKeyPair {
    pub key_id: String,
    pub public_key: [u8; 32],
    pub private_key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for HpkeKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HpkeKeyPair")
            .field("key_id", &self.key_id)
            .field("public_key", &b64(&self.public_key))
            .field("private_key", &"<redacted>")
            .finish()
    }
}

/// The only door to sessions and artefacts: one verified, active tenant. Every query made
/// through it is filtered by [`TenantStore::tenant_id`]; ids of other tenants read as not found.
///
/// Obtained from [`Store::authenticate_api_key`], [`Store::authenticate_access_key`],
/// [`Store::authenticate_access_hmac`], [`Store::authenticate_token`] or, for callers that verified
/// the tenant themselves, [`Store::tenant_scope`].
#[derive(Clone, Debug)]
pub struct TenantStore {
    pub(crate) store: Store,
    pub(crate) tenant_id: String,
    /// The credential that authenticated this handle, when there was one.
    pub(crate) credential_id: Option<String>,
    pub(crate) via: Option<CredentialKind>,
}

const MAX_NAME: usize = 64;

/// Whether `s` has the shape of a tenant id (a UUID, `8-4-4-4-12` hex digits, any case). Such a
/// string is looked up as an id only and is refused as a name, so an id and a name never collide.
pub fn looks_like_tenant_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn check_tenant_name(name: &str) -> Result<()> {
    if looks_like_tenant_id(name) {
        return Err(StoreError::invalid(
            "tenant name",
            format!("{name:?} has the shape of a tenant id; ids and names must not collide"),
        ));
    }
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "tenant name",
            format!("{name:?}: 1-{MAX_NAME} of [A-Za-z0-9._-]"),
        ))
    }
}

/// Associated data binding a sealed secret to its credential row.
fn seal_aad(tenant: &str, kind: CredentialKind, lookup: &str) -> Vec<u8> {
    let mut aad = Vec::new();
    for f in [
        "faceproof/credential".as_bytes(),
        tenant.as_bytes(),
        kind.as_str().as_bytes(),
        lookup.as_bytes(),
    ] {
        aad.extend_from_slice(&(f.len() as u32).to_be_bytes());
        aad.extend_from_slice(f);
    }
    aad
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

impl Store {
    /// Creates a tenant with one credential of each kind and returns the secrets (shown once).
    pub async fn create_tenant(
        &self,
        name: &str,
        settings: TenantSettings,
    ) -> Result<IssuedCredentials> {
        check_tenant_name(name)?;
        let now = self.now();
        let id = new_id();
        let settings_json = serde_json::to_string(&settings).expect("settings serialise");
        let mut tx = self.db().begin().await.op("begin create tenant")?;
        let inserted = sqlx::query(
            "INSERT INTO tenants (id, name, settings, created_at, revoked_at) VALUES ($1, $2, $3, $4, NULL)",
        )
        .bind(&id)
        .bind(name)
        .bind(&settings_json)
        .bind(now)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Conflict {
                    what: "tenant",
                    id: name.to_owned(),
                    reason: "a tenant with this name exists",
                });
            }
            Err(e) => return Err(StoreError::backend("insert tenant", e)),
        }
        let issued = self.issue_credentials(&mut tx, &id, name, now).await?;
        tx.commit().await.op("commit create tenant")?;
        tracing::info!(tenant = %id, "tenant created");
        Ok(issued)
    }

    async fn issue_credentials(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        tenant: &str,
        name: &str,
        now: i64,
    ) -> Result<IssuedCredentials> {
        let insert = "INSERT INTO credentials (id, tenant_id, kind, lookup, public_value, sealed_secret, created_at, revoked_at) \
                      VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)";

        let api_key = new_token("fpk_", 32);
        let kind = CredentialKind::FptApiKey;
        sqlx::query(insert)
            .bind(new_id())
            .bind(tenant)
            .bind(kind.as_str())
            .bind(sha256_hex(api_key.as_bytes()))
            .bind(api_key[..12].to_owned())
            .bind(None::<String>)
            .bind(now)
            .execute(&mut **tx)
            .await
            .op("insert api key")?;

        let access_key = format!("fpa_{}", crypto::hex(&crypto::random::<16>()));
        let secret = new_token("fps_", 32);
        let kind = CredentialKind::AdvanceAccessKey;
        let sealed = self
            .keys()
            .seal(secret.as_bytes(), &seal_aad(tenant, kind, &access_key));
        sqlx::query(insert)
            .bind(new_id())
            .bind(tenant)
            .bind(kind.as_str())
            .bind(&access_key)
            .bind(None::<String>)
            .bind(sealed)
            .bind(now)
            .execute(&mut **tx)
            .await
            .op("insert access key")?;

        let (private, public) = crypto::x25519_keypair();
        let key_id = new_id();
        let kind = CredentialKind::HpkeX25519;
        let sealed = self
            .keys()
            .seal(&*private, &seal_aad(tenant, kind, &key_id));
        sqlx::query(insert)
            .bind(new_id())
            .bind(tenant)
            .bind(kind.as_str())
            .bind(&key_id)
            .bind(b64(&public))
            .bind(sealed)
            .bind(now)
            .execute(&mut **tx)
            .await
            .op("insert hpke key")?;

        Ok(IssuedCredentials {
            tenant_id: tenant.to_owned(),
            tenant_name: name.to_owned(),
            fpt_api_key: api_key,
            advance_access_key: access_key,
            advance_secret_key: secret,
            hpke_key_id: key_id,
            hpke_public_key: b64(&public),
        })
    }

    /// The id of the tenant named by `id_or_name`: a string shaped like an id is an id, anything
    /// else a name (names shaped like ids are refused), so exactly one tenant can match.
    async fn resolve_tenant(&self, id_or_name: &str) -> Result<String> {
        let query = if looks_like_tenant_id(id_or_name) {
            "SELECT id FROM tenants WHERE id = $1"
        } else {
            "SELECT id FROM tenants WHERE name = $1"
        };
        sqlx::query_scalar(query)
            .bind(id_or_name)
            .fetch_optional(self.db())
            .await
            .op("find tenant")?
            .ok_or_else(|| StoreError::not_found("tenant", id_or_name))
    }

    /// Revokes every credential of the tenant and issues a fresh set (shown once). Tokens and
    /// handles made from the old credentials are refused from now on.
    pub async fn rotate_credentials(&self, id_or_name: &str) -> Result<IssuedCredentials> {
        // Ids never change, so resolving before the transaction is safe.
        let id_or_name = self.resolve_tenant(id_or_name).await?;
        let id_or_name = id_or_name.as_str();
        let now = self.now();
        let mut tx = self.db().begin().await.op("begin rotate")?;
        // Write first: on SQLite this takes the write lock before any read.
        sqlx::query(
            "UPDATE credentials SET revoked_at = $1 WHERE revoked_at IS NULL AND tenant_id IN \
             (SELECT id FROM tenants WHERE id = $2 AND revoked_at IS NULL)",
        )
        .bind(now)
        .bind(id_or_name)
        .execute(&mut *tx)
        .await
        .op("revoke old credentials")?;
        let row = sqlx::query("SELECT id, name, revoked_at FROM tenants WHERE id = $1")
            .bind(id_or_name)
            .fetch_optional(&mut *tx)
            .await
            .op("load tenant")?
            .ok_or_else(|| StoreError::not_found("tenant", id_or_name))?;
        let id: String = row.try_get("id").op("decode tenant")?;
        let name: String = row.try_get("name").op("decode tenant")?;
        if row
            .try_get::<Option<i64>, _>("revoked_at")
            .op("decode tenant")?
            .is_some()
        {
            return Err(StoreError::Forbidden {
                reason: "tenant is revoked",
            });
        }
        let issued = self.issue_credentials(&mut tx, &id, &name, now).await?;
        tx.commit().await.op("commit rotate")?;
        tracing::info!(tenant = %id, "tenant credentials rotated");
        Ok(issued)
    }

    /// Every tenant with the public part of its credentials, oldest first.
    pub async fn list_tenants(&self) -> Result<Vec<TenantInfo>> {
        let tenants = sqlx::query(
            "SELECT id, name, settings, created_at, revoked_at FROM tenants ORDER BY created_at, name",
        )
        .fetch_all(self.db())
        .await
        .op("list tenants")?;
        let creds = sqlx::query(
            "SELECT id, tenant_id, kind, lookup, public_value, created_at, revoked_at FROM credentials \
             ORDER BY created_at, id",
        )
        .fetch_all(self.db())
        .await
        .op("list credentials")?;
        let mut out = tenants
            .iter()
            .map(tenant_from_row)
            .collect::<Result<Vec<_>>>()?;
        for row in &creds {
            let tenant: String = row.try_get("tenant_id").op("decode credential")?;
            let info = credential_from_row(row)?;
            if let Some(t) = out.iter_mut().find(|t| t.id == tenant) {
                t.credentials.push(info);
            }
        }
        Ok(out)
    }

    /// One tenant by id or name.
    pub async fn tenant(&self, id_or_name: &str) -> Result<TenantInfo> {
        let query = if looks_like_tenant_id(id_or_name) {
            "SELECT id, name, settings, created_at, revoked_at FROM tenants WHERE id = $1"
        } else {
            "SELECT id, name, settings, created_at, revoked_at FROM tenants WHERE name = $1"
        };
        let row = sqlx::query(query)
            .bind(id_or_name)
            .fetch_optional(self.db())
            .await
            .op("load tenant")?
            .ok_or_else(|| StoreError::not_found("tenant", id_or_name))?;
        let mut info = tenant_from_row(&row)?;
        let creds = sqlx::query(
            "SELECT id, kind, lookup, public_value, created_at, revoked_at FROM credentials \
             WHERE tenant_id = $1 ORDER BY created_at, id",
        )
        .bind(&info.id)
        .fetch_all(self.db())
        .await
        .op("load credentials")?;
        info.credentials = creds
            .iter()
            .map(credential_from_row)
            .collect::<Result<_>>()?;
        Ok(info)
    }

    /// Revokes a tenant: from now on its credentials, tokens and signed URLs are refused. Its data
    /// stays until retention purges it. Revoking twice is not an error.
    pub async fn revoke_tenant(&self, id_or_name: &str) -> Result<TenantInfo> {
        let id = self.resolve_tenant(id_or_name).await?;
        let now = self.now();
        let done =
            sqlx::query("UPDATE tenants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(&id)
                .execute(self.db())
                .await
                .op("revoke tenant")?;
        let info = self.tenant(&id).await?;
        if done.rows_affected() > 0 {
            tracing::info!(tenant = %info.id, "tenant revoked");
        }
        Ok(info)
    }

    /// Replaces a tenant's settings.
    pub async fn set_tenant_settings(
        &self,
        id_or_name: &str,
        settings: &TenantSettings,
    ) -> Result<()> {
        let id = self.resolve_tenant(id_or_name).await?;
        let json = serde_json::to_string(settings).expect("settings serialise");
        let done = sqlx::query("UPDATE tenants SET settings = $1 WHERE id = $2")
            .bind(json)
            .bind(&id)
            .execute(self.db())
            .await
            .op("update settings")?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("tenant", id_or_name));
        }
        Ok(())
    }

    /// Verifies an FPT `api-key` header value.
    pub async fn authenticate_api_key(&self, api_key: &str) -> Result<TenantStore> {
        let row = sqlx::query(
            "SELECT c.id AS credential_id, c.tenant_id, c.revoked_at AS credential_revoked, t.revoked_at AS tenant_revoked \
             FROM credentials c JOIN tenants t ON t.id = c.tenant_id WHERE c.kind = $1 AND c.lookup = $2",
        )
        .bind(CredentialKind::FptApiKey.as_str())
        .bind(sha256_hex(api_key.as_bytes()))
        .fetch_optional(self.db())
        .await
        .op("authenticate api key")?
        .ok_or(StoreError::Forbidden {
            reason: "unknown api key",
        })?;
        self.scope_from_credential_row(&row, CredentialKind::FptApiKey)
    }

    /// Verifies an ADVANCE access key: `verify` receives the decrypted secret key (UTF-8 bytes) and
    /// says whether the client's proof (a signature over a timestamp, say) is valid. The secret is
    /// zeroed afterwards.
    pub async fn authenticate_access_key(
        &self,
        access_key: &str,
        verify: impl FnOnce(&[u8]) -> bool,
    ) -> Result<TenantStore> {
        let row = sqlx::query(
            "SELECT c.id AS credential_id, c.tenant_id, c.sealed_secret, c.revoked_at AS credential_revoked, \
             t.revoked_at AS tenant_revoked \
             FROM credentials c JOIN tenants t ON t.id = c.tenant_id WHERE c.kind = $1 AND c.lookup = $2",
        )
        .bind(CredentialKind::AdvanceAccessKey.as_str())
        .bind(access_key)
        .fetch_optional(self.db())
        .await
        .op("authenticate access key")?
        .ok_or(StoreError::Forbidden {
            reason: "unknown access key",
        })?;
        let scope = self.scope_from_credential_row(&row, CredentialKind::AdvanceAccessKey)?;
        let sealed: String = row.try_get("sealed_secret").op("decode credential")?;
        let secret = self.keys().open(
            &sealed,
            &seal_aad(
                &scope.tenant_id,
                CredentialKind::AdvanceAccessKey,
                access_key,
            ),
        )?;
        if verify(&secret) {
            Ok(scope)
        } else {
            Err(StoreError::Forbidden {
                reason: "access key signature does not verify",
            })
        }
    }

    /// [`Store::authenticate_access_key`] for the common proof: `tag` is HMAC-SHA256 of `message`
    /// under the secret key (compared in constant time).
    pub async fn authenticate_access_hmac(
        &self,
        access_key: &str,
        message: &[u8],
        tag: &[u8],
    ) -> Result<TenantStore> {
        self.authenticate_access_key(access_key, |secret| {
            crypto::verify_hmac(secret, message, tag)
        })
        .await
    }

    /// A handle for a tenant the caller has verified by other means (its own token, the admin
    /// CLI). Refused when the tenant does not exist or is revoked.
    pub async fn tenant_scope(&self, tenant_id: &str) -> Result<TenantStore> {
        self.check_active(tenant_id).await?;
        Ok(TenantStore {
            store: self.clone(),
            tenant_id: tenant_id.to_owned(),
            credential_id: None,
            via: None,
        })
    }

    pub(crate) async fn check_active(&self, tenant_id: &str) -> Result<()> {
        let revoked: Option<Option<i64>> =
            sqlx::query_scalar("SELECT revoked_at FROM tenants WHERE id = $1")
                .bind(tenant_id)
                .fetch_optional(self.db())
                .await
                .op("load tenant")?;
        match revoked {
            None => Err(StoreError::Forbidden {
                reason: "unknown tenant",
            }),
            Some(Some(_)) => Err(StoreError::Forbidden {
                reason: "tenant is revoked",
            }),
            Some(None) => Ok(()),
        }
    }

    fn scope_from_credential_row(&self, row: &AnyRow, kind: CredentialKind) -> Result<TenantStore> {
        let tenant_revoked: Option<i64> = row.try_get("tenant_revoked").op("decode credential")?;
        let credential_revoked: Option<i64> =
            row.try_get("credential_revoked").op("decode credential")?;
        if tenant_revoked.is_some() {
            return Err(StoreError::Forbidden {
                reason: "tenant is revoked",
            });
        }
        if credential_revoked.is_some() {
            return Err(StoreError::Forbidden {
                reason: "credential is revoked",
            });
        }
        Ok(TenantStore {
            store: self.clone(),
            tenant_id: row.try_get("tenant_id").op("decode credential")?,
            credential_id: Some(row.try_get("credential_id").op("decode credential")?),
            via: Some(kind),
        })
    }
}

impl TenantStore {
    /// The tenant every operation of this handle is confined to.
    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    /// The kind of credential that authenticated this handle (`None` for [`Store::tenant_scope`]
    /// and tokens carry the access key's kind).
    pub fn authenticated_by(&self) -> Option<CredentialKind> {
        self.via
    }

    /// The tenant's settings.
    pub async fn settings(&self) -> Result<TenantSettings> {
        let json: String = sqlx::query_scalar("SELECT settings FROM tenants WHERE id = $1")
            .bind(&self.tenant_id)
            .fetch_optional(self.store.db())
            .await
            .op("load settings")?
            .ok_or_else(|| StoreError::not_found("tenant", &self.tenant_id))?;
        serde_json::from_str(&json).map_err(|e| StoreError::corrupt(format!("settings: {e}")))
    }

    /// The tenant's current HPKE public key (for the public-key endpoint).
    pub async fn hpke_public_key(&self) -> Result<HpkePublicKey> {
        let row = self.hpke_row().await?;
        let key_id: String = row.try_get("lookup").op("decode hpke key")?;
        let public = public_key_from_row(&row)?;
        Ok(HpkePublicKey {
            key_id,
            public_key: public,
        })
    }

    /// The tenant's current HPKE key pair with the private key decrypted, to open an envelope.
    pub async fn hpke_key_pair(&self) -> Result<HpkeKeyPair> {
        let row = self.hpke_row().await?;
        let key_id: String = row.try_get("lookup").op("decode hpke key")?;
        let public = public_key_from_row(&row)?;
        let sealed: String = row.try_get("sealed_secret").op("decode hpke key")?;
        let plain = self.store.keys().open(
            &sealed,
            &seal_aad(&self.tenant_id, CredentialKind::HpkeX25519, &key_id),
        )?;
        let private: [u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| StoreError::corrupt("hpke private key length"))?;
        let private = Zeroizing::new(private);
        if crypto::x25519_public(&private) != public {
            return Err(StoreError::corrupt(
                "hpke private key does not match its public key",
            ));
        }
        Ok(HpkeKeyPair {
            key_id,
            public_key: public,
            private_key: private,
        })
    }

    async fn hpke_row(&self) -> Result<AnyRow> {
        sqlx::query(
            "SELECT lookup, public_value, sealed_secret FROM credentials \
             WHERE tenant_id = $1 AND kind = $2 AND revoked_at IS NULL ORDER BY created_at DESC, id LIMIT 1",
        )
        .bind(&self.tenant_id)
        .bind(CredentialKind::HpkeX25519.as_str())
        .fetch_optional(self.store.db())
        .await
        .op("load hpke key")?
        .ok_or_else(|| StoreError::not_found("hpke key", &self.tenant_id))
    }
}

fn public_key_from_row(row: &AnyRow) -> Result<[u8; 32]> {
    let text: Option<String> = row.try_get("public_value").op("decode hpke key")?;
    text.as_deref()
        .and_then(crypto::unb64)
        .and_then(|v| <[u8; 32]>::try_from(v.as_slice()).ok())
        .ok_or_else(|| StoreError::corrupt("hpke public key"))
}

fn tenant_from_row(row: &AnyRow) -> Result<TenantInfo> {
    let settings: String = row.try_get("settings").op("decode tenant")?;
    Ok(TenantInfo {
        id: row.try_get("id").op("decode tenant")?,
        name: row.try_get("name").op("decode tenant")?,
        settings: serde_json::from_str(&settings)
            .map_err(|e| StoreError::corrupt(format!("settings: {e}")))?,
        created_at_ms: row.try_get("created_at").op("decode tenant")?,
        revoked_at_ms: row.try_get("revoked_at").op("decode tenant")?,
        credentials: Vec::new(),
    })
}

fn credential_from_row(row: &AnyRow) -> Result<CredentialInfo> {
    let kind = CredentialKind::parse(&row.try_get::<String, _>("kind").op("decode credential")?)?;
    let lookup: String = row.try_get("lookup").op("decode credential")?;
    let public_value: Option<String> = row.try_get("public_value").op("decode credential")?;
    let public = match kind {
        CredentialKind::FptApiKey => format!("{}...", public_value.unwrap_or_default()),
        CredentialKind::AdvanceAccessKey => lookup,
        CredentialKind::HpkeX25519 => public_value.unwrap_or_default(),
    };
    Ok(CredentialInfo {
        id: row.try_get("id").op("decode credential")?,
        kind,
        public,
        created_at_ms: row.try_get("created_at").op("decode credential")?,
        revoked_at_ms: row.try_get("revoked_at").op("decode credential")?,
    })
}
