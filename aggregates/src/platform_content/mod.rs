//! The `platform_content` aggregate: a tutorial or an announcement the operator writes for
//! tenants. Admins write it (a draft), revise it, publish it and take it back to draft;
//! every step is recorded with the admin who took it. The rules checked here: titles and
//! keys are not blank, a tutorial's video is a YouTube or Vimeo address, an announcement's
//! window ends after it starts and its audience names someone.

mod aggregate;
mod commands;
mod error;
#[cfg(test)]
mod tests;

pub use aggregate::{is_slug, is_video_url, ContentKind, PlatformContent};
pub use commands::{AnnouncementDraft, PlatformContentCommand, TutorialDraft};
pub use error::PlatformContentError;

use crate::clock::Clock;
use std::fmt;
use std::sync::Arc;

/// The services the platform-content aggregate uses.
#[derive(Clone)]
pub struct PlatformContentServices {
    /// The time.
    pub clock: Arc<dyn Clock>,
}

impl PlatformContentServices {
    /// Services from their parts.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self { clock }
    }
}

impl fmt::Debug for PlatformContentServices {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlatformContentServices")
            .finish_non_exhaustive()
    }
}
