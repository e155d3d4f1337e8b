"""The package's version: a leaf, so that anything may read it without importing the
package's face."""

__version__ = "0.1.0"
