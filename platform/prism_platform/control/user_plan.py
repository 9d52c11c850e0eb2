"""Planning the users of ``prism import``: made when missing (token-only), their role and
disabled state set as in the file, except the importing user's own account."""

from __future__ import annotations

from typing import Any

from prism_platform.accounts.service import Accounts
from prism_platform.control.import_report import Step, diff, step
from prism_platform.control.plane_file import PlaneFile


class UserPlanning:
    accounts: Accounts

    def user_steps(self, plane: PlaneFile, actor: str) -> list[Step]:
        target = {u.name: u for u in self.accounts.users()}
        steps = []
        for u in plane.users:
            old = target.get(u.name)
            wanted = {"role": u.role, "disabled": u.disabled}
            if old is None:

                def add(
                    by: str, name: str = u.name, role: str = u.role, off: bool = u.disabled
                ) -> None:
                    self.accounts.add_user(name, role, None, actor=by)
                    if off:
                        self.accounts.update_user(name, disabled=True, actor=by)

                note = f"token-only, no password: prism token create --user {u.name}"
                steps.append(
                    step("user", u.name, "create", add, changes=diff({}, wanted), note=note)
                )
                continue
            changes = diff({"role": old.role, "disabled": old.disabled}, wanted)
            if not changes:
                steps.append(step("user", u.name, "unchanged"))
            elif u.name == actor:
                note = "the importing user's own account: an import never changes it"
                steps.append(step("user", u.name, "skip", changes=changes, note=note))
            else:

                def update(
                    by: str, name: str = u.name, role: Any = u.role, off: bool = u.disabled
                ) -> None:
                    self.accounts.update_user(name, role=role, disabled=off, actor=by)

                steps.append(step("user", u.name, "change", update, changes=changes))
        wanted_names = {u.name for u in plane.users}
        steps += [step("user", n, "only_on_target") for n in sorted(set(target) - wanted_names)]
        return steps
