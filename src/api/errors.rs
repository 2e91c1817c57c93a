//! AWS-shaped errors: a `__type` naming one of the error shapes of the
//! Step Functions service model (`InvalidArn`, `StateMachineDoesNotExist`,
//! ...) or of the AWS JSON protocol (`UnknownOperationException`,
//! `SerializationException`, ...), a `message`, and an HTTP status. The
//! model gives its error shapes no status of their own, so they are 400s,
//! as the protocol's client errors are.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The content type of every AWS JSON 1.0 body.
pub const AMZ_JSON: &str = "application/x-amz-json-1.0";

/// An error answer: nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// AWS's error type (`__type`).
    pub code: &'static str,
    /// What is wrong, naming the field or resource at fault.
    pub message: String,
}

impl ApiError {
    /// A 400 with AWS error type `code`.
    pub fn new(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code,
            message: message.into(),
        }
    }

    /// The same error with another HTTP status.
    pub fn with_status(self, status: StatusCode) -> ApiError {
        ApiError { status, ..self }
    }

    /// `ValidationException`: a field breaks a constraint of the model.
    pub fn validation(message: impl Into<String>) -> ApiError {
        ApiError::new("ValidationException", message)
    }

    /// `InvalidArn`.
    pub fn invalid_arn(arn: &str) -> ApiError {
        ApiError::new("InvalidArn", format!("Invalid Arn: '{arn}'"))
    }

    /// `ServiceUnavailable` (503): the runtime is shutting down or full.
    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new("ServiceUnavailable", message).with_status(StatusCode::SERVICE_UNAVAILABLE)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "__type": self.code, "message": self.message });
        let mut response = (self.status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(AMZ_JSON));
        headers.insert("x-amzn-errortype", HeaderValue::from_static(self.code));
        response
    }
}

/// What a handler answers.
pub type ApiResult<T> = Result<T, ApiError>;
