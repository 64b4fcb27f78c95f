//! `platform_content`: the operator's tutorials and announcements with their latest
//! content and who wrote and changed them (issue 20), and `content_history`, every step in
//! order. Tenants' reads filter by published state, audience and window at read time.

mod projector;
#[cfg(test)]
mod tests;

pub use projector::PlatformContentModel;
