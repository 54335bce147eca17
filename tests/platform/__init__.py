"""Tests of the platform (app/platform), the commands and the house itself."""
