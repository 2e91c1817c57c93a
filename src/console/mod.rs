//! The web console (temporary module file of the console-ui branch: the
//! console-api branch owns this file and replaces it).

pub mod assets;
