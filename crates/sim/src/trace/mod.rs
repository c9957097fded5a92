//! Trace formats: the native CSV and one importer per public trace.
