"""Adapters: other systems' exports mapped onto practicelake's export format."""
