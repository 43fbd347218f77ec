"""Source formats: what each export format gives the transform (base), the formats by name
(registry), and one module or package per format."""
