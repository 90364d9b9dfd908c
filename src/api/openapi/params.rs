//! The query strings of the API, as the document describes them.

use serde::Deserialize;
use utoipa::IntoParams;

/// `page` and `page_size` (positive integers).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PageQuery {
    /// The page (from 1).
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// Results per page.
    #[param(minimum = 1)]
    pub page_size: Option<i64>,
}

/// The filters of the v1 dataset list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct DatasetListQuery {
    /// Words searched in titles, descriptions, tags...
    pub q: Option<String>,
    #[param(minimum = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1)]
    pub page_size: Option<i64>,
    /// `title`, `created`, `last_update`, `reuses`, `followers`, `views`, each also with `-`.
    pub sort: Option<String>,
    /// Tags the datasets all carry (repeatable).
    pub tag: Option<Vec<String>>,
    pub license: Option<String>,
    pub format: Option<String>,
    pub schema: Option<String>,
    pub schema_version: Option<String>,
    pub geozone: Option<String>,
    pub granularity: Option<String>,
    /// `YYYY-MM-DD-YYYY-MM-DD`.
    pub temporal_coverage: Option<String>,
    /// An organization id.
    pub organization: Option<String>,
    /// A user id.
    pub owner: Option<String>,
    pub followed_by: Option<String>,
    pub topic: Option<String>,
    pub dataservice: Option<String>,
    pub reuse: Option<String>,
    pub featured: Option<bool>,
    /// Datasets whose remote resources the checks found all available (`true`) or some not
    /// (`false`) (rudata extension).
    pub available: Option<bool>,
    /// Authenticated callers only.
    pub archived: Option<bool>,
    /// Authenticated callers only.
    pub deleted: Option<bool>,
    /// Authenticated callers only.
    pub private: Option<bool>,
    pub access_type: Option<String>,
    pub badge: Option<String>,
    pub organization_badge: Option<String>,
}

/// The v2 dataset search.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct DatasetSearchQuery {
    pub q: Option<String>,
    #[param(minimum = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1)]
    pub page_size: Option<i64>,
    /// `created`, `last_update`, `reuses`, `followers`, `views`, each also with `-`.
    pub sort: Option<String>,
    pub tag: Option<Vec<String>>,
    pub license: Option<String>,
    /// Any of these formats (repeatable).
    pub format: Option<Vec<String>>,
    pub format_family: Option<String>,
    pub schema: Option<Vec<String>>,
    pub geozone: Option<String>,
    pub granularity: Option<Vec<String>>,
    pub temporal_coverage: Option<String>,
    pub organization: Option<String>,
    pub organization_name: Option<String>,
    pub owner: Option<String>,
    pub topic: Option<String>,
    pub featured: Option<bool>,
    /// Datasets whose remote resources the checks found all available (`true`) or some not
    /// (`false`) (rudata extension).
    pub available: Option<bool>,
    pub badge: Option<String>,
    pub organization_badge: Option<String>,
    pub producer_type: Option<String>,
    pub last_update_range: Option<String>,
    pub access_type: Option<String>,
    pub include_geozone_ancestors: Option<bool>,
    /// `license`, `format`, `organization`, `tag`, `frequency` (comma-separated or repeated).
    pub facets: Option<Vec<String>>,
}

/// The v2 organization search.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct OrganizationSearchQuery {
    pub q: Option<String>,
    #[param(minimum = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1)]
    pub page_size: Option<i64>,
    /// `created` or `datasets`, each also with `-`.
    pub sort: Option<String>,
    pub badge: Option<String>,
}

/// A suggestion's query.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SuggestQuery {
    /// The text to complete.
    pub q: String,
    /// The most suggestions.
    pub size: Option<i64>,
}

/// The v2 list of a dataset's resources.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ResourceListQuery {
    #[param(minimum = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1)]
    pub page_size: Option<i64>,
    /// Only the resources of this type.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Words in their titles.
    pub q: Option<String>,
}

/// The filters of an organization's invitations.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct InvitationQuery {
    /// A user id.
    pub user: Option<String>,
    /// `pending`, `accepted`, `refused`, `canceled`.
    pub status: Option<String>,
}

/// A page of an organization's datasets, in an order.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SortedPageQuery {
    #[param(minimum = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1)]
    pub page_size: Option<i64>,
    /// `title`, `created`, `last_update`, `reuses`, `followers`, `views`, each also with `-`.
    pub sort: Option<String>,
}

/// The filters of the activity log.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ActivityQuery {
    #[param(minimum = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1)]
    pub page_size: Option<i64>,
    /// `-created_at` (newest first, the default) or `created_at`.
    pub sort: Option<String>,
    /// The entries of this actor (a user id).
    pub user: Option<String>,
    /// The entries about this organization or its datasets (an organization id).
    pub organization: Option<String>,
    /// The entries about this object (a dataset's include its resources').
    pub related_to: Option<String>,
    /// Only these keys (repeatable), e.g. `dataset:updated`.
    pub key: Option<Vec<String>>,
}
