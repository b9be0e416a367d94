"""Map geometry shipped with the package (Natural Earth, public domain; README.md here)."""
