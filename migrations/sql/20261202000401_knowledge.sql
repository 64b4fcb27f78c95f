-- Knowledge and retrieval (F10, F11).

-- The `knowledge` read model: each tenant's current knowledge text, as GET /api/v1/knowledge
-- shows it.
CREATE TABLE knowledge_documents (
    tenant_id   uuid PRIMARY KEY,
    version     integer NOT NULL,
    text        text NOT NULL,
    char_count  integer NOT NULL,
    replaced_at timestamptz NOT NULL
);

-- What the `knowledge_indexer` worker has indexed per tenant: searches read this version
-- only, so a half-written new version is never mixed into results. `indexed_by` names the
-- index and embedding that hold it; a different pair at start-up re-indexes the tenant.
CREATE TABLE knowledge_index_state (
    tenant_id   uuid PRIMARY KEY,
    version     integer NOT NULL,
    chunk_count integer NOT NULL,
    indexed_by  text NOT NULL,
    indexed_at  timestamptz NOT NULL
);

-- The in-process index's vectors (used when QDRANT_URL is unset), persisted so the index
-- survives a restart; written in the indexer's transaction with its checkpoint.
CREATE TABLE knowledge_chunks (
    tenant_id uuid NOT NULL,
    version   integer NOT NULL,
    position  integer NOT NULL,
    text      text NOT NULL,
    embedding real[] NOT NULL,
    PRIMARY KEY (tenant_id, version, position)
);
