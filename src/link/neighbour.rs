//! The sans-IO neighbour cache. API skeleton (link-api branch).
