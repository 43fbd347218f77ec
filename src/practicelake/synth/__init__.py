"""Synthetic practice-management exports: realistic, deterministic, and as dirty as asked."""

from practicelake.synth.export import FileTruth
from practicelake.synth.generator import GenerationReport, generate

__all__ = ["FileTruth", "GenerationReport", "generate"]
