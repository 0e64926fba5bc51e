"""pytest plugin for mockidp: fixtures, the ``mockidp`` marker and Hypothesis strategies."""
