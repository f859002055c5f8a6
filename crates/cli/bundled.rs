//! The bundled frameworks and extensions (`content/`), embedded at build time.

include!(concat!(env!("OUT_DIR"), "/bundled.rs"));
