// Copy buttons: a `<button data-copy="ID" hidden>` copies the value of the field with that id.
// Without JavaScript the buttons stay hidden and the field can be selected and copied by hand.
document.querySelectorAll("button[data-copy]").forEach((button) => {
  const field = document.getElementById(button.dataset.copy);
  if (!field || !navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    await navigator.clipboard.writeText(field.value);
    button.dataset.copied = "true";
  });
});
