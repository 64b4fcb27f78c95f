-- The text of the knowledge version each tenant has indexed, for the lexical index (#16):
-- written with `knowledge_index_state` in the indexer's transaction, so the lexical and the
-- vector indexes always hold the same version.
CREATE TABLE knowledge_index_texts (
    tenant_id uuid PRIMARY KEY,
    version   integer NOT NULL,
    text      text NOT NULL
);
