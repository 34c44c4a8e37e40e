"""Pure renderers: report values in, strings out. Printing and files belong to the caller.

Import the renderer you need from its module (``render.jsonout``, ``render.text``): the text
renderer loads rich, which a JSON run should not pay for at start-up.
"""
