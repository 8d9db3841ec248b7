"""Message templates (canned responses) and the folders that hold them.

A template or folder belongs to a team or to a teammate (private: seen only by private tokens,
and only when the teammate allowed API access), as tags and signatures do; Front's endpoints
without an owner in the path create in the oldest team the token reaches. Folders nest: a child
folder, and a template placed in a folder, always have the folder's owner (placing something in
another owner's folder is a 400). Deleting a folder deletes, in one transaction, every folder
below it and every template in any of them, with their attachments and inbox restrictions.

A template is available in every inbox unless ``inbox_ids`` restricts it to some (a non-empty
list of inboxes the token sees). Its files are attachment rows with owner_type "template".

``access`` finds owners, folders and templates and lists them; ``folders`` and ``templates``
write them.
"""
