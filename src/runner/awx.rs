//! AWX runner (in progress).
