//! The live Kueue AdmissionCheck controller. Not built yet: today this crate only proves that
//! alloc-core links into the controller shell. See README "Status".
pub use alloc_core;
