//! What the schedule endpoints share: the `name` path parameter and the
//! 404 that names it.

use crate::error::ApiError;
use crate::request::Call;

/// The `name` path parameter.
pub(super) fn name(call: &Call) -> String {
    call.param("name").to_owned()
}

/// No schedule of that name: 404 naming it.
pub(super) fn not_found(name: &str) -> ApiError {
    ApiError::NotFound(format!("schedule {name:?} not found"))
}
