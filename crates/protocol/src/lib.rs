//! AWS wire protocols shared by every watchtrail service: SigV4 authentication, awsJson 1.1
//! dispatch, AWS error shapes and validation against the AWS service models.
//!
//! Services implement [`gateway::AwsJsonService`]; this crate never depends on a service.

pub mod credentials;
pub mod error;
pub mod gateway;
pub mod model;
pub mod raw_service;
pub mod sigv4;

pub use credentials::{CredentialStore, Principal, RootCredentials};
pub use error::AwsError;
pub use gateway::{
    AwsJsonService, CallObserver, Gateway, ObservedCall, ObservedResource, RecordCommitted,
    RequestContext, RequestFacts, TlsDetails,
};
pub use model::ServiceModel;
