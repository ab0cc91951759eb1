//! Signed artefact URLs and access tokens: HMAC-SHA256 under keys derived from the master key.
//!
//! A signed URL covers (tenant, object key, expiry). The server routes `GET {base}/{object_key}
//! ?expires=..&signature=..` to [`Store::open_signed_url`]: a bad signature is
//! [`StoreError::Forbidden`] (answer 403), a good but expired one [`StoreError::Expired`] (410).

use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;
use sqlx::Row;

use crate::Store;
use crate::clock::duration_ms;
use crate::config::StoreConfig;
use crate::crypto::{b64url, mac_fields, unb64url, verify_fields};
use crate::error::{BackendOp, Result, StoreError};
use crate::objects::key_tenant;
use crate::sessions::{Artefact, artefact_from_row};
use crate::tenants::{CredentialKind, TenantStore};

const URL_LABEL: &[u8] = b"faceproof/signed-url/v1";
const TOKEN_LABEL: &[u8] = b"faceproof/access-token/v1";
const TOKEN_PREFIX: &str = "fpat1";

/// A signed, expiring reference to one artefact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SignedUrl {
    pub tenant_id: String,
    pub object_key: String,
    /// Unix milliseconds after which the URL answers "expired".
    pub expires_at_ms: i64,
    /// Base64url HMAC-SHA256 tag.
    pub signature: String,
}

impl SignedUrl {
    /// `{object_key}?expires={ms}&signature={tag}`: append to the server's artefact route.
    /// Keys and tags use only URL-safe characters.
    pub fn path_and_query(&self) -> String {
        format!(
            "{}?expires={}&signature={}",
            self.object_key, self.expires_at_ms, self.signature
        )
    }

    /// Rebuilds a URL from the request path (the object key) and its two query values; the
    /// tenant is read from the key. Malformed input is [`StoreError::Forbidden`], like a forgery.
    pub fn from_request(object_key: &str, expires: &str, signature: &str) -> Result<SignedUrl> {
        let forged = StoreError::Forbidden {
            reason: "malformed signed URL",
        };
        let tenant = key_tenant(object_key).ok_or(StoreError::Forbidden {
            reason: "malformed signed URL",
        })?;
        let expires_at_ms: i64 = expires.parse().map_err(|_| forged)?;
        Ok(SignedUrl {
            tenant_id: tenant.to_owned(),
            object_key: object_key.to_owned(),
            expires_at_ms,
            signature: signature.to_owned(),
        })
    }
}

/// A bearer token for one tenant (ADVANCE `X-ACCESS-TOKEN`), issued from an access key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccessToken {
    pub token: String,
    pub expires_at_ms: i64,
}

impl Store {
    pub(crate) fn sign_key(&self, tenant: &str, key: &str, expires_at_ms: i64) -> SignedUrl {
        let exp = expires_at_ms.to_string();
        let tag = mac_fields(
            self.keys().url_key(),
            &[URL_LABEL, tenant.as_bytes(), key.as_bytes(), exp.as_bytes()],
        );
        SignedUrl {
            tenant_id: tenant.to_owned(),
            object_key: key.to_owned(),
            expires_at_ms,
            signature: b64url(&tag),
        }
    }

    /// Checks a signed URL's tag (constant time), then its expiry. The tenant must also be the one
    /// the key belongs to.
    pub fn verify_signed_url(&self, url: &SignedUrl) -> Result<()> {
        let forged = StoreError::Forbidden {
            reason: "signed URL signature does not verify",
        };
        if key_tenant(&url.object_key) != Some(url.tenant_id.as_str()) {
            return Err(forged);
        }
        let tag = unb64url(&url.signature).ok_or(StoreError::Forbidden {
            reason: "signed URL signature does not verify",
        })?;
        let exp = url.expires_at_ms.to_string();
        let fields: [&[u8]; 4] = [
            URL_LABEL,
            url.tenant_id.as_bytes(),
            url.object_key.as_bytes(),
            exp.as_bytes(),
        ];
        if !verify_fields(self.keys().url_key(), &fields, &tag) {
            return Err(forged);
        }
        let now = self.now();
        if now >= url.expires_at_ms {
            return Err(StoreError::Expired {
                what: "signed URL",
                id: url.object_key.clone(),
                expired_at_ms: url.expires_at_ms,
                now_ms: now,
            });
        }
        Ok(())
    }

    /// Verifies a signed URL and returns the artefact it names: the tenant must be active and
    /// the artefact committed, unexpired and still stored.
    pub async fn open_signed_url(&self, url: &SignedUrl) -> Result<(Artefact, Bytes)> {
        self.verify_signed_url(url)?;
        self.check_active(&url.tenant_id).await?;
        let row = sqlx::query(
            "SELECT session_id, name, object_key, content_type, sha256, size, created_at, expires_at \
             FROM artefacts WHERE object_key = $1 AND tenant_id = $2",
        )
        .bind(&url.object_key)
        .bind(&url.tenant_id)
        .fetch_optional(self.db())
        .await
        .op("load artefact")?
        .ok_or_else(|| StoreError::not_found("artefact", &url.object_key))?;
        let a = artefact_from_row(&row)?;
        let now = self.now();
        if now >= a.expires_at_ms {
            return Err(StoreError::Expired {
                what: "artefact",
                id: url.object_key.clone(),
                expired_at_ms: a.expires_at_ms,
                now_ms: now,
            });
        }
        let bytes = self.objects().get(&a.object_key).await?;
        Ok((a, bytes))
    }

    /// Verifies an access token: tag, expiry, then that the tenant and the access key that
    /// obtained it are still active (revocation and rotation take effect at once).
    pub async fn authenticate_token(&self, token: &str) -> Result<TenantStore> {
        let forged = || StoreError::Forbidden {
            reason: "access token does not verify",
        };
        let parts: Vec<&str> = token.split('.').collect();
        let [prefix, tenant, credential, exp, tag] = parts[..] else {
            return Err(forged());
        };
        if prefix != TOKEN_PREFIX {
            return Err(forged());
        }
        let tag = unb64url(tag).ok_or_else(forged)?;
        let fields: [&[u8]; 4] = [
            TOKEN_LABEL,
            tenant.as_bytes(),
            credential.as_bytes(),
            exp.as_bytes(),
        ];
        if !verify_fields(self.keys().token_key(), &fields, &tag) {
            return Err(forged());
        }
        let expires_at_ms: i64 = exp.parse().map_err(|_| forged())?;
        let now = self.now();
        if now >= expires_at_ms {
            return Err(StoreError::Expired {
                what: "access token",
                id: String::new(),
                expired_at_ms: expires_at_ms,
                now_ms: now,
            });
        }
        let row = sqlx::query(
            "SELECT c.revoked_at AS credential_revoked, t.revoked_at AS tenant_revoked \
             FROM credentials c JOIN tenants t ON t.id = c.tenant_id WHERE c.id = $1 AND c.tenant_id = $2",
        )
        .bind(credential)
        .bind(tenant)
        .fetch_optional(self.db())
        .await
        .op("check token credential")?
        .ok_or_else(forged)?;
        if row
            .try_get::<Option<i64>, _>("tenant_revoked")
            .op("decode credential")?
            .is_some()
        {
            return Err(StoreError::Forbidden {
                reason: "tenant is revoked",
            });
        }
        if row
            .try_get::<Option<i64>, _>("credential_revoked")
            .op("decode credential")?
            .is_some()
        {
            return Err(StoreError::Forbidden {
                reason: "credential is revoked",
            });
        }
        Ok(TenantStore {
            store: self.clone(),
            tenant_id: tenant.to_owned(),
            credential_id: Some(credential.to_owned()),
            via: Some(CredentialKind::AdvanceAccessKey),
        })
    }
}

impl TenantStore {
    /// Issues an access token (default lifetime: the configured access-token TTL). Only a handle
    /// authenticated with an access key (or such a token) may do this.
    pub fn issue_access_token(&self, ttl: Option<Duration>) -> Result<AccessToken> {
        let credential = match (&self.credential_id, self.via) {
            (Some(c), Some(CredentialKind::AdvanceAccessKey)) => c,
            _ => {
                return Err(StoreError::Forbidden {
                    reason: "access tokens are issued for an access key only",
                });
            }
        };
        let store = &self.store;
        let ttl = ttl
            .map(duration_ms)
            .unwrap_or(StoreConfig::ms(store.config().access_token_ttl_secs));
        let expires_at_ms = store.now().saturating_add(ttl);
        let exp = expires_at_ms.to_string();
        let tag = mac_fields(
            store.keys().token_key(),
            &[
                TOKEN_LABEL,
                self.tenant_id.as_bytes(),
                credential.as_bytes(),
                exp.as_bytes(),
            ],
        );
        Ok(AccessToken {
            token: format!(
                "{TOKEN_PREFIX}.{}.{credential}.{exp}.{}",
                self.tenant_id,
                b64url(&tag)
            ),
            expires_at_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_parsing() {
        let u = SignedUrl::from_request("t/abc/s/u/far.jpg", "123", "sig").unwrap();
        assert_eq!(u.tenant_id, "abc");
        assert_eq!(
            u.path_and_query(),
            "t/abc/s/u/far.jpg?expires=123&signature=sig"
        );
        assert!(matches!(
            SignedUrl::from_request("x/abc/far.jpg", "1", "s"),
            Err(StoreError::Forbidden { .. })
        ));
        assert!(matches!(
            SignedUrl::from_request("t/abc/far.jpg", "soon", "s"),
            Err(StoreError::Forbidden { .. })
        ));
    }
}
