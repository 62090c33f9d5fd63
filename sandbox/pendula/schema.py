"""SQLite tables of the Pendula stand-in: tenants, API tokens, flows and experiences."""

# Credentials are stored only as SHA-256 hashes: the stand-in never needs them back, and a
# copied database file must not hand out working tokens.
SCHEMA = """
CREATE TABLE IF NOT EXISTS pendula_tenants (
    id TEXT PRIMARY KEY,
    admin_token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pendula_tokens (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL REFERENCES pendula_tenants(id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
    deactivated_at REAL,
    created_at TEXT NOT NULL,
    idempotency_key TEXT
);
CREATE INDEX IF NOT EXISTS pendula_tokens_tenant ON pendula_tokens (tenant_id, seq);
CREATE TABLE IF NOT EXISTS pendula_flows (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES pendula_tenants(id),
    name TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('draft', 'active', 'draining', 'terminated')),
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pendula_experiences (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    flow_id TEXT NOT NULL REFERENCES pendula_flows(id),
    received_at TEXT NOT NULL,
    body TEXT NOT NULL,
    headers TEXT NOT NULL,
    custom_context TEXT,
    auth_scheme TEXT NOT NULL,
    token_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS pendula_experiences_flow ON pendula_experiences (flow_id, seq);
"""
