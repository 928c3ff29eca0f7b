# fleetops — least-privilege Vault (OpenBao) policy. See docs/vault.md.
# KV v2 mounted at secret/. Nothing else: no sys/, no other mount, no delete, destroy or list.
# Attach it to fleetops' AppRole role with token_no_default_policy=true: the token paths below are
# the only parts of Vault's "default" policy fleetops uses.

# ExternalIds that AssumeRole presents (fleet file: externalIdRef). Read for AssumeRole; create/update
# for the `external-id` rotation, which writes new versions with check-and-set (pending, then live).
# A fleetops that never rotates ExternalIds can keep this read-only.
path "secret/data/fleetops/external-ids/*" {
  capabilities = ["create", "read", "update"]
}
path "secret/metadata/fleetops/external-ids/*" {
  capabilities = ["read"]
}

# Per-account secrets fleetops rotates: read any version, write new versions with check-and-set
# (create: the first version, cas 0; update: the next ones).
path "secret/data/fleetops/accounts/*" {
  capabilities = ["create", "read", "update"]
}

# Their metadata: current version and the created_time of each version; custom_metadata
# (which version is live in the account) is written here.
path "secret/metadata/fleetops/accounts/*" {
  capabilities = ["create", "read", "update"]
}

# Live records (fleet/secret-vault-layout.ts): which value version is live in each account. Rotation
# reads them (status, --older-than), writes a new version with check-and-set when a value goes live or
# is rolled back, and reads the metadata for the cas version.
path "secret/data/fleetops/live/*" {
  capabilities = ["create", "read", "update"]
}
path "secret/metadata/fleetops/live/*" {
  capabilities = ["read"]
}

# The worker's own token: checked (after a 403, to tell an expired token from a denied path) and
# renewed before it expires.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
path "auth/token/renew-self" {
  capabilities = ["update"]
}
