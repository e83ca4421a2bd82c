/* placeholder: replaced by the policy room */
