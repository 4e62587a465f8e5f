"""Tests of wecom_async.callback and wecom_async.testing.push."""
