"""Expression trees and index forms printed back as formulas and as LaTeX."""
