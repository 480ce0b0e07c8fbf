"""A page's HTML as a tree, and htmx's out-of-band swaps applied to it, for tests that
check that a change's partial answer leaves the page as a fresh read would."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    children: list[Element | str] = field(default_factory=list)

    def find(self, element_id: str) -> Element | None:
        """The element with this id in the subtree, or None."""
        if self.attrs.get("id") == element_id:
            return self
        for child in self.children:
            if isinstance(child, Element):
                found = child.find(element_id)
                if found is not None:
                    return found
        return None

    def parent_of(self, element: Element) -> Element | None:
        for child in self.children:
            if child is element:
                return self
            if isinstance(child, Element):
                found = child.parent_of(element)
                if found is not None:
                    return found
        return None

    def text(self) -> str:
        """The subtree as comparable text: tags with sorted attributes (hx-swap-oob left
        out, as htmx leaves it), and text with its surrounding space stripped."""
        attrs = "".join(
            f' {k}="{v}"' if v is not None else f" {k}"
            for k, v in sorted(self.attrs.items())
            if k != "hx-swap-oob"
        )
        inner = "".join(c.text() if isinstance(c, Element) else c.strip() for c in self.children)
        return f"<{self.tag}{attrs}>{inner}</{self.tag}>"


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.root = Element("#document", {})
        self.open = [self.root]

    def handle_starttag(self, tag, attrs):
        element = Element(tag, dict(attrs))
        self.open[-1].children.append(element)
        if tag not in VOID:
            self.open.append(element)

    def handle_startendtag(self, tag, attrs):
        self.open[-1].children.append(Element(tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        for depth in range(len(self.open) - 1, 0, -1):
            if self.open[depth].tag == tag:
                del self.open[depth:]
                return
        raise ValueError(f"</{tag}> closes nothing that is open")

    def handle_data(self, data):
        if data.strip():
            self.open[-1].children.append(data)

    def handle_entityref(self, name):
        self.open[-1].children.append(f"&{name};")

    def handle_charref(self, name):
        self.open[-1].children.append(f"&#{name};")


def parse(html: str) -> Element:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root


def _select(page: Element, selector: str) -> Element:
    """The element a swap's selector names: "#id", or "#id > tag" (its first such child)."""
    element_id, _, child = selector.removeprefix("#").partition(" > ")
    found = page.find(element_id)
    if found is not None and child:
        found = next((c for c in found.children if isinstance(c, Element) and c.tag == child), None)
    if found is None:
        raise AssertionError(f"the page has nothing at {selector!r} to swap")
    return found


def swap_out_of_band(page: Element, answer: str, elsewhere=frozenset()) -> list[str]:
    """Apply an answer's top-level hx-swap-oob elements to the page in order, as htmx does:
    "true" replaces the element of the same id, "innerHTML" its content, "delete" removes
    it; "afterend:<selector>" and "afterbegin:<selector>" put the element's children (its
    wrapper stripped) after the selected element or first inside it. Ids in `elsewhere`
    are parts of the page outside this one. What was swapped: ids, and selectors."""
    swapped = []
    for part in parse(answer).children:
        if not isinstance(part, Element) or "hx-swap-oob" not in part.attrs:
            continue
        style, _, selector = part.attrs["hx-swap-oob"].partition(":")
        if selector:
            target = _select(page, selector)
            if style == "afterend":
                siblings = page.parent_of(target).children
                at = siblings.index(target) + 1
                siblings[at:at] = part.children
            elif style == "afterbegin":
                target.children[0:0] = part.children
            else:
                raise AssertionError(f"unexpected hx-swap-oob={style!r}")
            swapped.append(selector)
            continue
        element_id = part.attrs["id"]
        if element_id in elsewhere:
            continue
        target = _select(page, "#" + element_id)
        siblings = page.parent_of(target).children
        if style == "innerHTML":
            target.children = part.children
        elif style == "true":
            siblings[siblings.index(target)] = part
        elif style == "delete":
            siblings.remove(target)
        else:
            raise AssertionError(f"unexpected hx-swap-oob={style!r}")
        swapped.append(element_id)
    return swapped
