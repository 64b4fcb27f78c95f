//! Why a platform-content command is refused.

use crate::error::{DomainError, ErrorKind};

/// A refused platform-content command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatformContentError {
    /// Nothing has been written under this id.
    #[error("no such tutorial or announcement")]
    NotFound,
    /// Something has been written under this id already.
    #[error("this content exists already")]
    AlreadyExists,
    /// A tutorial command on an announcement, or the other way round.
    #[error("this is not a {expected}")]
    WrongKind {
        /// What the command is for.
        expected: &'static str,
    },
    /// The Portuguese title is blank.
    #[error("the title (pt-BR) must not be blank")]
    TitleRequired,
    /// The category is blank.
    #[error("the category must not be blank")]
    CategoryRequired,
    /// The key is not lowercase letters, digits and single hyphens.
    #[error("the key must be 1 to 80 lowercase letters, digits and hyphens")]
    InvalidSlug,
    /// The video is not a YouTube or Vimeo `https` address.
    #[error("the video must be a YouTube or Vimeo https address")]
    InvalidVideoUrl,
    /// The window ends before it starts.
    #[error("the announcement must end after it starts")]
    InvalidWindow,
    /// A list of plans or tenants is empty.
    #[error("the audience must name at least one plan or tenant")]
    EmptyAudience,
}

impl DomainError for PlatformContentError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "content_not_found",
            Self::AlreadyExists => "content_exists",
            Self::WrongKind { .. } => "content_kind_mismatch",
            Self::TitleRequired => "title_required",
            Self::CategoryRequired => "category_required",
            Self::InvalidSlug => "invalid_slug",
            Self::InvalidVideoUrl => "invalid_video_url",
            Self::InvalidWindow => "invalid_window",
            Self::EmptyAudience => "empty_audience",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound => ErrorKind::NotFound,
            Self::AlreadyExists | Self::WrongKind { .. } => ErrorKind::Conflict,
            Self::TitleRequired
            | Self::CategoryRequired
            | Self::InvalidSlug
            | Self::InvalidVideoUrl
            | Self::InvalidWindow
            | Self::EmptyAudience => ErrorKind::Unprocessable,
        }
    }
}
